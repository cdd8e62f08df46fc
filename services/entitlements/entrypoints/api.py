"""HTTP API of the entitlements service."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from services.disbursements.domain.events import DisbursementRequested
from services.entitlements.service_layer.handlers import (
    check,
    ledger_as_read,
    ledger_year,
    read_profile,
)
from shared.auth import PrincipalDep
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


class LedgerView(BaseModel):
    member_id: str
    year: int
    base_union: str
    policy_version: str
    benefits: list[BenefitLine]


@router.get(
    "/members/{member_id}/ledgers/{year}",
    response_model=LedgerView,
    summary="A member's ledger for one year: cap, used, reserved and remaining per benefit",
)
async def get_ledger(
    member_id: str,
    caller: PrincipalDep,
    runtime: RuntimeDep,
    year: int = Path(ge=2000, le=2100),
) -> LedgerView:
    async with runtime.sessions() as session:
        found = await ledger_as_read(runtime.context, runtime.event_store(session), member_id, year)
    if found is None or not caller.can_reach(found[0].base_union):
        raise NotFound(f"no ledger for member {member_id} in {year}")
    ledger = found[1]
    return LedgerView(
        member_id=member_id,
        year=year,
        base_union=ledger.base_union or "",
        policy_version=ledger.policy_version or "",
        benefits=[
            BenefitLine(
                benefit=b.benefit,
                clause=b.clause,
                cap_fen=b.cap_fen,
                used_fen=b.used_fen,
                reserved_fen=b.reserved_fen,
                remaining_fen=b.remaining_fen,
                count=b.count,
                max_count=b.max_count,
            )
            for b in ledger.balances.values()
        ],
    )


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
    async with runtime.sessions() as session:
        store = runtime.event_store(session)
        profile = await read_profile(store, body.member_id)
        if profile is None or not caller.can_reach(profile.base_union):
            raise NotFound(f"no member {body.member_id}")
        year = ledger_year(runtime.context, profile, request)
        found = await ledger_as_read(runtime.context, store, body.member_id, year)
    if found is None:
        raise InvalidInput(f"no policy governs {year}", field="business_date")
    decision = check(runtime.context, profile, found[1], request)
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
