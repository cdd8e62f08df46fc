"""HTTP API of the entitlements service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as FastApiPath
from pydantic import BaseModel, Field

from services.disbursements.domain.events import DisbursementRequested
from services.entitlements.service_layer.handlers import (
    check,
    ledger_as_read,
    ledger_entries,
    ledger_year,
    read_profile,
)
from shared.auth import PrincipalDep
from shared.clock import business_date
from shared.errors import InvalidInput, NotFound
from shared.http.deps import RuntimeDep

router = APIRouter(prefix="/v1", tags=["ledgers"])


class BenefitLine(BaseModel):
    benefit: str
    clause: str
    cap_fen: int | None
    used_fen: int
    reserved_fen: int
    remaining_fen: int | None
    count: int
    max_count: int | None


class ChildGrant(BaseModel):
    child_id: str
    disbursement_id: str


class LedgerView(BaseModel):
    member_id: str
    year: int
    base_union: str
    as_of: date
    policy_version: str = Field(description="The version in force on `as_of` (clamped to the year)")
    benefits: list[BenefitLine]
    childbirth_grants: list[ChildGrant]


class LedgerEntry(BaseModel):
    version: int
    type: str
    recorded_at: datetime
    source_event_id: str | None
    disbursement_id: str | None = None
    benefit: str | None = None
    amount_fen: int | None = None
    clause: str | None = None
    policy_version: str | None = None
    reason: str | None = None
    remaining_fen: int | None = None
    child_id: str | None = None


AsOf = Annotated[
    date | None,
    Query(description="The ledger as it stood at the end of this date (Asia/Shanghai)"),
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
    ctx = runtime.context
    async with runtime.sessions() as session:
        await ctx.policies.refresh(runtime.event_store(session))
        found = await ledger_as_read(ctx, runtime.event_store(session), member_id, year, as_of)
    if found is None or not caller.can_reach(found[0].base_union):
        raise NotFound(f"no ledger for member {member_id} in {year}")
    ledger = found[1]
    read_on = as_of or business_date(ctx.clock)
    policy = ctx.policies.in_force(max(date(year, 1, 1), min(read_on, date(year, 12, 31))))
    lines = []
    for b in ledger.balances.values():
        rule = policy.member_benefits.get(b.benefit)
        cap = rule.cap_fen if rule is not None and rule.annual else None
        lines.append(
            BenefitLine(
                benefit=b.benefit,
                clause=rule.clause if rule else b.clause,
                cap_fen=cap,
                used_fen=b.used_fen,
                reserved_fen=b.reserved_fen,
                remaining_fen=None if cap is None else cap - b.used_fen - b.reserved_fen,
                count=b.count,
                max_count=rule.max_count if rule is not None and rule.annual else None,
            )
        )
    return LedgerView(
        member_id=member_id,
        year=year,
        base_union=found[0].base_union,
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


class CheckRequest(BaseModel):
    member_id: str
    benefit: str
    amount_fen: int = Field(ge=0)
    business_date: date
    child_id: str | None = None


class CheckAnswer(BaseModel):
    allowed: bool
    benefit: str
    amount_fen: int
    clause: str
    policy_version: str
    reason: str | None
    remaining_fen: int | None
    remaining_count: int | None


@router.post(
    "/checks",
    response_model=CheckAnswer,
    tags=["decisions"],
    summary="Would this disbursement be allowed now? Answers without reserving anything",
)
async def post_check(body: CheckRequest, caller: PrincipalDep, runtime: RuntimeDep) -> CheckAnswer:
    request = DisbursementRequested(disbursement_id="check", **body.model_dump())
    ctx = runtime.context
    async with runtime.sessions() as session:
        store = runtime.event_store(session)
        await ctx.policies.refresh(store)
        profile = await read_profile(store, body.member_id)
        if profile is None or not caller.can_reach(profile.base_union):
            raise NotFound(f"no member {body.member_id}")
        year = ledger_year(ctx, profile, request)
        found = await ledger_as_read(ctx, store, body.member_id, year)
        if found is None:
            raise InvalidInput(f"no policy governs {year}", field="business_date")
        decision = await check(ctx, store, profile, found[1], request)
    event = decision.event
    return CheckAnswer(
        allowed=decision.status == "reserved",
        benefit=event.benefit,
        amount_fen=event.amount_fen,
        clause=event.clause,
        policy_version=event.policy_version,
        reason=getattr(event, "reason", None),
        remaining_fen=getattr(event, "remaining_fen", None),
        remaining_count=getattr(event, "remaining_count", None),
    )
