"""HTTP API of the entitlements service."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as FastApiPath

from services.entitlements.contracts import granting_level
from services.entitlements.domain.asks import Ask, TripFacts
from services.entitlements.domain.decision import remaining_of, yearly_cap
from services.entitlements.domain.events import BirthSpacingReviewed
from services.entitlements.domain.ledger import MemberLedger
from services.entitlements.domain.policy import PolicyVersion
from services.entitlements.entrypoints.deps import context
from services.entitlements.entrypoints.schemas import (
    BenefitLine,
    CheckAnswer,
    CheckRequest,
    ChildGrant,
    LedgerEntry,
    LedgerView,
    SpacingReview,
)
from services.entitlements.service_layer import handlers
from services.entitlements.service_layer.decisions import check
from services.entitlements.service_layer.facts import standard_of
from services.entitlements.service_layer.views import (
    LedgerNow,
    ledger_as_read,
    ledger_entries,
    ledgers_now,
    read_profile,
)
from shared.auth import PrincipalDep, Role
from shared.clock import business_date
from shared.errors import NotFound
from shared.eventstore.store import EventStore
from shared.http.deps import RuntimeDep
from shared.http.params import ChildId, MemberId
from shared.runtime import Runtime
from shared.uow import UnitOfWork

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
    member_id: MemberId, year: Year, caller: PrincipalDep, runtime: RuntimeDep, as_of: AsOf = None
) -> LedgerView:
    ctx = context(runtime)
    read_on = as_of or business_date(ctx.clock)
    day = max(date(year, 1, 1), min(read_on, date(year, 12, 31)))
    # Now: the read tables, outside a transaction (each statement its own snapshot, no BEGIN
    # and ROLLBACK round trips); as of a date: the streams, folded in one transaction.
    async with (runtime.reads if as_of is None else runtime.sessions)() as session:
        store = runtime.event_store(session)
        await ctx.policies.refresh_for_reading(store)
        try:
            policy: PolicyVersion | None = ctx.policies.in_force(day)
        except LookupError:
            policy = None
        # a once-a-cycle benefit is counted in its cycle's first year, where the decision looks
        held_in = {
            name: first
            for name, rule in (policy.member_benefits.items() if policy else ())
            if rule.count_per == "plan_cycle" and (first := rule.cycle_of(year)[0]) != year
        }
        base_union, ledgers = await _read(
            runtime, store, member_id, sorted({year, *held_in.values()}), as_of
        )
        ledger = ledgers.get(year)
        if ledger is None or base_union is None or not caller.can_reach(base_union):
            raise NotFound(f"no ledger for member {member_id} in {year}")
        if policy is None:
            raise NotFound(f"no ledger for member {member_id} in {year}")
        chain = await ctx.policies.standards_for_reading(store, base_union)
        caps = {
            name: yearly_cap(rule, await standard_of(store, base_union, name, rule, day, chain))
            for name, rule in policy.member_benefits.items()
            if rule.yearly_cap
        }
        elsewhere = {first: ledgers.get(first) for first in set(held_in.values())}
    lines = []
    for name, rule in policy.member_benefits.items():
        source = elsewhere.get(held_in[name]) if name in held_in else ledger
        used, reserved, count = source.line(name) if source is not None else (0, 0, 0)
        cap = caps.get(name)
        lines.append(
            BenefitLine(
                benefit=name,
                title=rule.title,
                title_en=rule.title_en,
                clause=rule.clause,
                cap_fen=cap,
                used_fen=used,
                reserved_fen=reserved,
                remaining_fen=remaining_of(cap, used, reserved),
                count=count,
                max_count=rule.max_count if rule.yearly_cap or name in held_in else None,
                counted_in=held_in.get(name),
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


async def _read(
    runtime: Runtime, store: EventStore, member_id: MemberId, years: list[int], as_of: date | None
) -> tuple[str | None, dict[int, LedgerNow | MemberLedger]]:
    """A member's ledgers for some years, now or as of the end of a business date; the base
    union is None for a member not known."""
    if as_of is None:
        now = await ledgers_now(store, member_id, years)
        if now is None:
            return None, {}
        return now[years[0]].base_union, dict(now)
    read: dict[int, LedgerNow | MemberLedger] = {}
    base_union = None
    for year in years:
        found = await ledger_as_read(context(runtime), store, member_id, year, as_of)
        if found is None:
            return None, {}
        base_union, read[year] = found[0].base_union, found[1]
    return base_union, read


@router.get(
    "/members/{member_id}/ledgers/{year}/entries",
    response_model=list[LedgerEntry],
    summary="Every entry of a member's ledger, oldest first, with its source, clause and time",
)
async def get_entries(
    member_id: MemberId, year: Year, caller: PrincipalDep, runtime: RuntimeDep, as_of: AsOf = None
) -> list[LedgerEntry]:
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


@router.post(
    "/members/{member_id}/children/{child_id}/spacing-review",
    status_code=201,
    response_model=BirthSpacingReviewed,
    summary="A reviewer's finding on a birth refused as too close to a sibling's",
    responses={409: {"description": "Nothing to review, or reviewed already"}},
)
async def review_spacing(
    member_id: MemberId,
    child_id: ChildId,
    body: SpacingReview,
    caller: PrincipalDep,
    runtime: RuntimeDep,
) -> BirthSpacingReviewed:
    """The 180-day spacing is a check of the data, not a rule of the notice: a reviewer who
    finds both births real approves them, and the member's next request for the child's gift
    is decided as for any birth. Recorded once, with the reviewer and the reason."""
    async with UnitOfWork(runtime) as uow:
        return await handlers.review_birth_spacing(
            context(runtime),
            uow,
            member_id=member_id,
            child_id=child_id,
            approved=body.approved,
            reason=body.reason.strip(),
            actor=caller.subject,
            actor_org=caller.org,
            reach=caller.can_reach,
        )
