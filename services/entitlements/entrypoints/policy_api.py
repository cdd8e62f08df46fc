"""Policy versions (published by provincial administrators) and unions' own standards."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from services.entitlements.contracts import Benefit, UnionStandardSet
from services.entitlements.domain.policy import PolicyVersion
from services.entitlements.domain.standards import applicable
from services.entitlements.domain.union_ledger import Spending, UnionLedger
from services.entitlements.entrypoints.deps import context
from services.entitlements.entrypoints.schemas import Reason
from services.entitlements.service_layer import handlers, policies, views
from services.entitlements.service_layer.context import EntitlementsContext
from shared.auth import Principal, PrincipalDep, org_contains, parse_org
from shared.clock import PlausibleDate, business_date
from shared.errors import InvalidInput, NotFound
from shared.http.deps import RuntimeDep
from shared.money import Amount, UnionFigure
from shared.runtime import Runtime
from shared.uow import UnitOfWork

router = APIRouter(prefix="/v1", tags=["policy"])
OrgPath = Annotated[str, Path(description="Org path, e.g. shanxi/taiyuan/xiaodian/bu-0001")]


class PolicySummary(BaseModel):
    version: str
    effective_from: date
    source: str


class StandardRequest(BaseModel):
    effective_from: PlausibleDate
    amount_fen: Amount | None = Field(default=None, description="Voucher amount per member")
    expiry_days: int | None = Field(
        default=None,
        ge=1,
        le=3660,
        strict=True,
        description="Voucher: days it can be used after issue",
    )
    standard_fen: Amount | None = Field(default=None, description="Training subsidy per course")
    yearly_total_fen: Amount | None = Field(
        default=None, description="Training subsidy: at most this much per member per year"
    )


@router.get("/policies", response_model=list[PolicySummary], summary="Every policy version")
async def list_policies(caller: PrincipalDep, runtime: RuntimeDep) -> list[PolicySummary]:
    async with runtime.sessions() as session:
        await context(runtime).policies.refresh(runtime.event_store(session))
    return [PolicySummary(**v.model_dump()) for v in context(runtime).policies.book.versions]


@router.get("/policies/{version}", response_model=PolicyVersion, summary="One policy version")
async def get_policy(version: str, caller: PrincipalDep, runtime: RuntimeDep) -> PolicyVersion:
    async with runtime.sessions() as session:
        await context(runtime).policies.refresh(runtime.event_store(session))
    for v in context(runtime).policies.book.versions:
        if v.version == version:
            return v
    raise NotFound(f"no policy version {version}")


@router.post(
    "/policies",
    status_code=201,
    response_model=PolicySummary,
    summary="Publish a new policy version (provincial administrators)",
)
async def publish_policy(
    body: PolicyVersion, caller: PrincipalDep, runtime: RuntimeDep
) -> PolicySummary:
    """It governs every decision whose business date is on or after `effective_from`, which
    must be in the future; decisions already made keep the version they were made under."""
    ctx = context(runtime)
    async with UnitOfWork(runtime) as uow:
        event = await policies.publish(
            ctx.policies, uow.events, body, business_date(ctx.clock), caller.subject
        )
    return PolicySummary(**event.policy.model_dump())


@router.put(
    "/unions/{org:path}/standards/{benefit}",
    response_model=UnionStandardSet,
    summary="Set a union's own value for a benefit, where the notice allows it",
)
async def put_standard(
    org: OrgPath,
    benefit: Benefit,
    body: StandardRequest,
    caller: PrincipalDep,
    runtime: RuntimeDep,
) -> UnionStandardSet:
    """Voucher amount and expiry, the training-subsidy standard. Above the provincial ceiling,
    or a value the notice does not let a union set, is refused with the clause."""
    return await _set_standard(org, benefit, body, caller, runtime)


async def _set_standard(
    org: str,
    benefit: Benefit,
    body: StandardRequest,
    caller: Principal,
    runtime: Runtime,
    correction_reason: str | None = None,
) -> UnionStandardSet:
    union = parse_org(org)
    caller.require_org(union)
    values = body.model_dump(exclude={"effective_from", "reason"}, exclude_none=True)
    ctx = context(runtime)
    async with UnitOfWork(runtime) as uow:
        event = await policies.set_standard(
            ctx.policies,
            uow.events,
            union=union,
            benefit=benefit,
            effective_from=body.effective_from,
            values=values,
            actor=caller.subject,
            actor_org=caller.org,
            today=business_date(ctx.clock),
            correction_reason=correction_reason,
        )
    ctx.policies.forget_standards()  # committed: this replica's views show it at once
    return event


class StandardCorrection(StandardRequest):
    effective_from: PlausibleDate = Field(description="May lie before today, in the open books")
    reason: Reason = Field(
        examples=["会员代表大会决议日期录入有误，应自 3 月 1 日起执行"],
        description="Why the past standard is corrected; kept with the setting",
    )


@router.post(
    "/unions/{org:path}/standards/{benefit}/corrections",
    status_code=201,
    response_model=UnionStandardSet,
    summary="Correct a union's standard from a past date (an audited act, with its reason)",
)
async def correct_standard(
    org: OrgPath,
    benefit: Benefit,
    body: StandardCorrection,
    caller: PrincipalDep,
    runtime: RuntimeDep,
) -> UnionStandardSet:
    """The correction governs requests made from today on, including those for past business
    dates; a decision already made keeps the standard it was made under, and a replay of it
    (the what-if with the policy in force) decides it the same way."""
    return await _set_standard(org, benefit, body, caller, runtime, body.reason.strip())


@router.get(
    "/unions/{org:path}/standards",
    response_model=list[UnionStandardSet],
    summary="The standards that govern a union's members: its own, and those inherited from "
    "above (only for benefits whose standard is inherited), nearest first",
)
async def get_standards(
    org: OrgPath, caller: PrincipalDep, runtime: RuntimeDep
) -> list[UnionStandardSet]:
    union = parse_org(org)
    if not (caller.can_reach(union) or org_contains(union, caller.org)):
        raise NotFound(f"no union {union}")
    ctx = context(runtime)
    async with runtime.sessions() as session:
        store = runtime.event_store(session)
        await ctx.policies.refresh(store)
        found = await policies.standards_along(store, union)
    try:
        policy = ctx.policies.in_force(business_date(ctx.clock))
    except LookupError:
        return []
    return applicable(found, union, policy)


class UnionFinances(BaseModel):
    dues_income_fen: UnionFigure = Field(description="Member dues income of the year")
    budget_fen: UnionFigure = Field(description="Annual expenditure budget")
    consumption_share_fen: UnionFigure = Field(
        description="Part of the budget reserved for consumption assistance (clause 8)"
    )


class UnionLine(BaseModel):
    rule: str
    title: str
    title_en: str
    clause: str
    kind: Literal["ceiling", "floor"] = Field(
        description="ceiling: spending may not pass `limit_fen`; floor: the union should spend "
        "at least `limit_fen`"
    )
    limit_fen: int | None
    used_fen: int
    reserved_fen: int
    remaining_fen: int | None = Field(description="ceiling: what may still be spent")
    still_to_spend_fen: int | None = Field(description="floor: what is still to spend (never < 0)")


class AssistancePurchase(BaseModel):
    purchase_id: str = Field(
        min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._:-]+$", description="Retry-safe id"
    )
    amount_fen: Amount
    business_date: PlausibleDate
    purpose: str = Field(min_length=1, max_length=200, examples=["采购脱贫地区农产品用于职工食堂"])


class UnionLedgerView(BaseModel):
    union: str
    year: int
    dues_income_fen: int | None
    budget_fen: int | None
    consumption_share_fen: int | None
    lines: list[UnionLine]


@router.put(
    "/unions/{org:path}/finances/{year}",
    response_model=UnionLedgerView,
    tags=["union ledgers"],
    summary="Record a union's dues income and budget for a year",
)
async def put_finances(
    org: OrgPath,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: UnionFinances,
    caller: PrincipalDep,
    runtime: RuntimeDep,
) -> UnionLedgerView:
    union = parse_org(org)
    caller.require_org(union)
    if body.consumption_share_fen > body.budget_fen:
        raise InvalidInput("the share cannot exceed the budget", field="consumption_share_fen")
    async with UnitOfWork(runtime) as uow:
        await context(runtime).policies.refresh(uow.events)
        try:
            policy = context(runtime).policies.in_force(date(year, 12, 31))
        except LookupError:
            raise InvalidInput(f"no policy governs {year}", field="year") from None
        ledger = await handlers.record_union_finances(
            uow, union, year, body.model_dump(), caller.subject, policy
        )
    return _union_view(context(runtime), ledger, union, year)


@router.get(
    "/unions/{org:path}/ledgers/{year}",
    response_model=UnionLedgerView,
    tags=["union ledgers"],
    summary="A union's own ledger: the 4x dues top-up and consumption assistance",
)
async def get_union_ledger(
    org: OrgPath,
    year: Annotated[int, Path(ge=2000, le=2100)],
    caller: PrincipalDep,
    runtime: RuntimeDep,
    as_of: Annotated[
        date | None, Query(description="The ledger as of the end of this business day")
    ] = None,
) -> UnionLedgerView:
    union = parse_org(org)
    if not caller.can_reach(union):
        raise NotFound(f"no union ledger for {union} in {year}")
    async with runtime.sessions() as session:
        ledger = await views.read_union_ledger(runtime.event_store(session), union, year, as_of)
    if ledger is None:
        raise NotFound(f"no union ledger for {union} in {year}")
    return _union_view(context(runtime), ledger, union, year)


def _union_view(
    ctx: EntitlementsContext, ledger: UnionLedger, union: str, year: int
) -> UnionLedgerView:
    policy = ctx.policies.in_force(date(year, 12, 31))
    finances = ledger.finances
    lines = []
    for name, rule in policy.union_rules.items():
        spent = ledger.spending.get(name, Spending())
        kind: Literal["ceiling", "floor"]
        if rule.floor_of is not None:
            kind, limit = "floor", getattr(finances, rule.floor_of) if finances else None
        elif rule.max_multiple_of_dues is not None:
            kind, limit = "ceiling", ledger.culture_cap_fen(rule)
        else:
            continue
        left = None if limit is None else limit - spent.total_fen
        lines.append(
            UnionLine(
                rule=name,
                title=rule.title,
                title_en=rule.title_en,
                clause=rule.clause,
                kind=kind,
                limit_fen=limit,
                used_fen=spent.used_fen,
                reserved_fen=spent.reserved_fen,
                remaining_fen=left if kind == "ceiling" else None,
                still_to_spend_fen=max(left, 0) if kind == "floor" and left is not None else None,
            )
        )
    return UnionLedgerView(
        union=union,
        year=year,
        dues_income_fen=finances.dues_income_fen if finances else None,
        budget_fen=finances.budget_fen if finances else None,
        consumption_share_fen=finances.consumption_share_fen if finances else None,
        lines=lines,
    )


@router.post(
    "/unions/{org:path}/consumption-assistance",
    response_model=UnionLedgerView,
    tags=["union ledgers"],
    summary="Record a consumption-assistance purchase (clause 8): union spending, no member",
)
async def post_assistance(
    org: OrgPath, body: AssistancePurchase, caller: PrincipalDep, runtime: RuntimeDep
) -> UnionLedgerView:
    """Counted against the budget share the union reserved; the same `purchase_id` again records
    nothing twice."""
    union = parse_org(org)
    caller.require_org(union)
    ctx = context(runtime)
    today = business_date(ctx.clock)
    if body.business_date > today:
        raise InvalidInput(
            "the business date is in the future", field="business_date", rule="period.future"
        )
    async with UnitOfWork(runtime) as uow:
        await ctx.policies.refresh(uow.events)
        try:
            policy = ctx.policies.in_force(body.business_date)
        except LookupError:
            raise InvalidInput("no policy governs that date", field="business_date") from None
        ledger = await handlers.spend_on_assistance(
            uow,
            policy,
            union=union,
            purchase_id=body.purchase_id,
            amount_fen=body.amount_fen,
            on=body.business_date,
            purpose=body.purpose,
            actor=caller.subject,
            today=today,
        )
    return _union_view(ctx, ledger, union, body.business_date.year)
