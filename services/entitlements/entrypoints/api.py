"""HTTP API of the entitlements service."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as FastApiPath

from services.entitlements.contracts import granting_level
from services.entitlements.domain.asks import Ask, TripFacts
from services.entitlements.domain.ledger import MemberLedger
from services.entitlements.entrypoints.deps import context
from services.entitlements.entrypoints.schemas import (
    BenefitLine,
    CheckAnswer,
    CheckRequest,
    ChildGrant,
    LedgerEntry,
    LedgerView,
)
from services.entitlements.service_layer.decisions import check
from services.entitlements.service_layer.views import (
    LedgerNow,
    ledger_as_read,
    ledger_entries,
    ledger_now,
    read_profile,
)
from shared.auth import PrincipalDep, Role
from shared.clock import business_date
from shared.errors import NotFound
from shared.http.deps import RuntimeDep

router = APIRouter(prefix="/v1", tags=["ledgers"])
# A member's benefits are for those who pay, audit or help: not for HR integrations.
LEDGER_READERS = (Role.FINANCE_OFFICER, Role.ADMIN, Role.AUDITOR, Role.CASEWORKER, Role.REVIEWER)


AsOf = Annotated[
    date | None,
    Query(
        description="The ledger as of the end of this business date (Asia/Shanghai): every entry "
        "dated on or before it, whenever it was recorded"
    ),
]
Year = Annotated[int, FastApiPath(ge=2000, le=2100)]


@router.get(
    "/members/{member_id}/ledgers/{year}",
    response_model=LedgerView,
    summary="A member's ledger for one year: cap, used, reserved and remaining per benefit",
)
async def get_ledger(
    member_id: str, year: Year, caller: PrincipalDep, runtime: RuntimeDep, as_of: AsOf = None
) -> LedgerView:
    caller.require(*LEDGER_READERS)
    ctx = context(runtime)
    async with runtime.sessions() as session:
        store = runtime.event_store(session)
        await ctx.policies.refresh_for_reading(store)
        ledger: LedgerNow | MemberLedger | None = None
        if as_of is None:
            ledger = await ledger_now(runtime.engine, store, member_id, year)
            base_union = ledger.base_union if ledger else None
        else:
            found = await ledger_as_read(ctx, store, member_id, year, as_of)
            base_union, ledger = (found[0].base_union, found[1]) if found else (None, None)
    read_on = as_of or business_date(ctx.clock)
    if ledger is None or base_union is None or not caller.can_reach(base_union):
        raise NotFound(f"no ledger for member {member_id} in {year}")
    try:
        policy = ctx.policies.in_force(max(date(year, 1, 1), min(read_on, date(year, 12, 31))))
    except LookupError:
        raise NotFound(f"no ledger for member {member_id} in {year}") from None
    lines = []
    for name, rule in policy.member_benefits.items():
        used, reserved, count = ledger.line(name)
        cap = rule.cap_fen if rule.yearly_cap else None
        lines.append(
            BenefitLine(
                benefit=name,
                title=rule.title,
                title_en=rule.title_en,
                clause=rule.clause,
                cap_fen=cap,
                used_fen=used,
                reserved_fen=reserved,
                remaining_fen=None if cap is None else cap - used - reserved,
                count=count,
                max_count=rule.max_count if rule.yearly_cap else None,
            )
        )
    return LedgerView(
        member_id=member_id,
        year=year,
        base_union=base_union,
        as_of=read_on,
        policy_version=policy.version,
        benefits=lines,
        childbirth_grants=[
            ChildGrant(child_id=c, disbursement_id=d) for c, d in ledger.child_grants.items()
        ],
    )


@router.get(
    "/members/{member_id}/ledgers/{year}/entries",
    response_model=list[LedgerEntry],
    summary="Every entry of a member's ledger, oldest first, with its source, clause and time",
)
async def get_entries(
    member_id: str, year: Year, caller: PrincipalDep, runtime: RuntimeDep, as_of: AsOf = None
) -> list[LedgerEntry]:
    caller.require(*LEDGER_READERS)
    async with runtime.sessions() as session:
        store = runtime.event_store(session)
        profile = await read_profile(store, member_id)
        if profile is None or not caller.can_reach(profile.base_union):
            raise NotFound(f"no ledger for member {member_id} in {year}")
        stored = await ledger_entries(store, member_id, year, as_of)
    return [
        LedgerEntry(
            version=s.version,
            type=s.event.event_type.rsplit(".", 1)[-1],
            recorded_at=s.recorded_at,
            source_event_id=s.metadata.get("source_event_id")
            or getattr(s.event, "source_event_id", None),
            **{
                k: v
                for k, v in s.event.model_dump().items()
                if k in LedgerEntry.model_fields and k not in ("version", "type", "source_event_id")
            },
        )
        for s in stored
    ]


@router.post(
    "/checks",
    response_model=CheckAnswer,
    tags=["decisions"],
    summary="Would this disbursement be allowed? The same decision, reserving nothing",
)
async def post_check(body: CheckRequest, caller: PrincipalDep, runtime: RuntimeDep) -> CheckAnswer:
    caller.require(*LEDGER_READERS)
    ctx = context(runtime)
    async with runtime.sessions() as session:
        store = runtime.event_store(session)
        profile = await read_profile(store, body.member_id)
        if profile is None or not caller.can_reach(profile.base_union):
            raise NotFound(f"no member {body.member_id}")
        trip = body.trip
        ask = Ask(
            disbursement_id="check",
            member_id=body.member_id,
            benefit=body.benefit,
            amount_fen=body.amount_fen,
            business_date=body.business_date,
            requested_on=business_date(ctx.clock),
            child_id=body.child_id,
            granting_level=granting_level(caller.org, profile.base_union),
            trip=TripFacts(trip.days, trip.nights, tuple(trip.cost_categories)) if trip else None,
        )
        decision = await check(ctx, store, profile, ask)
    return CheckAnswer(**{k: getattr(decision, k) for k in CheckAnswer.model_fields})
