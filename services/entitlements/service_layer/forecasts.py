"""A batch priced before it runs: every selected member's line decided by the same `decide` on
the same ledgers as the real batch, in the same order, with each allowed line counted against
the union's ledger as the batch would — and nothing saved.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.entitlements.adapters import repository as repo
from services.entitlements.adapters.projections import LIVE
from services.entitlements.contracts import UnionSpendingReserved, granting_level
from services.entitlements.domain.asks import Ask, Decision
from services.entitlements.domain.decision import decide, ledger_year
from services.entitlements.domain.ledger import MemberLedger, ledger_id
from services.entitlements.domain.policy import UnionRule
from services.entitlements.domain.union_ledger import UnionLedger, union_ledger_id
from services.entitlements.service_layer.context import EntitlementsContext
from services.entitlements.service_layer.decisions import today
from services.entitlements.service_layer.facts import facts_of
from services.entitlements.service_layer.views import union_ledgers
from shared.db.sql import in_subtree
from shared.eventstore.store import EventStore


@dataclass(frozen=True)
class BatchPlan:
    """What a finance officer is about to send: the same fields as a real batch."""

    union: str
    benefit: str
    amount_fen: int
    business_date: date
    granting_org: str  # the caller's org: decides the granting level per member
    birthday_month: int | None = None


@dataclass
class UnionHeadroom:
    union: str
    rule: str
    clause: str
    limit_fen: int | None
    before_fen: int | None
    after_fen: int | None
    budget_fen: int | None
    consumption_share_fen: int | None


@dataclass
class UnionBudget:
    """A base union's expenditure budget for the year against what its members' ledgers
    already hold (used and reserved, every benefit) and what the batch would add."""

    union: str
    budget_fen: int | None
    spent_fen: int
    batch_fen: int

    @property
    def after_fen(self) -> int | None:
        if self.budget_fen is None:
            return None
        return self.budget_fen - self.spent_fen - self.batch_fen


@dataclass
class Forecast:
    lines: list[tuple[str, str, Decision]] = field(default_factory=list)  # member, union, answer
    headroom: dict[str, UnionHeadroom] = field(default_factory=dict)
    budgets: dict[str, UnionBudget] = field(default_factory=dict)

    @property
    def approved(self) -> int:
        return sum(d.allowed for _, _, d in self.lines)

    @property
    def cost_fen(self) -> int:
        return sum(d.amount_fen for _, _, d in self.lines if d.allowed)

    def refused_by_rule(self) -> Counter[tuple[str, str]]:
        return Counter((d.clause, d.rule) for _, _, d in self.lines if not d.allowed)


async def selected_members(session: AsyncSession, union: str) -> list[str]:
    """Active members at or below `union`, in member-id order: the batch's own order."""
    p = LIVE.profiles.c
    rows = await session.scalars(
        select(p.member_id).where(in_subtree(p.base_union, union), p.active).order_by(p.member_id)
    )
    return list(rows)


async def forecast_batch(
    ctx: EntitlementsContext, store: EventStore, plan: BatchPlan, chunk: int = 500
) -> Forecast:
    await ctx.policies.refresh(store)
    policy = ctx.policies.in_force(plan.business_date)
    members = await selected_members(store.session, plan.union)
    forecast = Forecast()
    unions: dict[str, UnionLedger] = {}
    for start in range(0, len(members), chunk):
        ids = members[start : start + chunk]
        profiles = await repo.profile_repository(store).get_many(ids)
        for member_id in ids:
            profile = profiles[member_id]
            if plan.birthday_month and (
                profile.birth_date is None or profile.birth_date.month != plan.birthday_month
            ):
                continue
            ask = Ask(
                disbursement_id=f"forecast-{member_id}",
                member_id=member_id,
                benefit=plan.benefit,
                amount_fen=plan.amount_fen,
                business_date=plan.business_date,
                requested_on=today(ctx),
                granting_level=granting_level(plan.granting_org, profile.base_union),
            )
            facts = await facts_of(store, profile, ask, policy)
            ledger = await _ledger(store, member_id, ledger_year(policy, ask, facts))
            rule = policy.union_rule_of(plan.benefit)
            union = await _union(store, unions, rule, facts.base_union, plan)
            decision = decide(policy, facts, ledger, union, ask)
            forecast.lines.append((member_id, facts.base_union, decision))
            if union is not None and rule is not None and decision.allowed:
                _count(forecast, union, rule, decision, ask)
    _close_headroom(forecast, unions, policy.union_rule_of(plan.benefit))
    await _budgets(store, forecast, plan.business_date.year)
    return forecast


async def _budgets(store: EventStore, forecast: Forecast, year: int) -> None:
    """Every benefit is paid from the union's budget: each union the batch reaches, with its
    recorded budget and what its members' ledgers of the year already hold."""
    batch: Counter[str] = Counter()
    for _, union, decision in forecast.lines:
        batch[union] += decision.amount_fen if decision.allowed else 0
    if not batch:
        return
    b, p = LIVE.balances.c, LIVE.profiles.c
    held: dict[str, int] = {
        union: int(total or 0)
        for union, total in (
            await store.session.execute(
                select(p.base_union, func.sum(b.used_fen + b.reserved_fen))
                .select_from(LIVE.balances.join(LIVE.profiles, b.member_id == p.member_id))
                .where(b.year == year, p.base_union.in_(sorted(batch)))
                .group_by(p.base_union)
            )
        ).all()
    }
    ledgers = union_ledgers(store)
    found = await ledgers.get_many([union_ledger_id(u, year) for u in sorted(batch)])
    for union, cost in sorted(batch.items()):
        ledger = found.get(union_ledger_id(union, year))
        finances = ledger.finances if ledger is not None else None
        forecast.budgets[union] = UnionBudget(
            union=union,
            budget_fen=finances.budget_fen if finances else None,
            spent_fen=held.get(union, 0),
            batch_fen=cost,
        )


async def _ledger(store: EventStore, member_id: str, year: int) -> MemberLedger:
    ledgers = repo.ledger_repository(store)
    return await ledgers.get(ledger_id(member_id, year)) or ledgers.new(ledger_id(member_id, year))


async def _union(
    store: EventStore,
    unions: dict[str, UnionLedger],
    rule: tuple[str, UnionRule] | None,
    base_union: str,
    plan: BatchPlan,
) -> UnionLedger | None:
    if rule is None:
        return None
    if base_union not in unions:
        key = union_ledger_id(base_union, plan.business_date.year)
        found = await union_ledgers(store).get(key) or union_ledgers(store).new(key)
        found.union, found.year = base_union, plan.business_date.year
        unions[base_union] = found
    return unions[base_union]


def _headroom(union: UnionLedger, rule: tuple[str, UnionRule], before: int | None) -> UnionHeadroom:
    finances = union.finances
    return UnionHeadroom(
        union=union.union,
        rule=rule[0],
        clause=rule[1].clause,
        limit_fen=union.culture_cap_fen(rule[1]),
        before_fen=before,
        after_fen=before,
        budget_fen=finances.budget_fen if finances else None,
        consumption_share_fen=finances.consumption_share_fen if finances else None,
    )


def _count(
    forecast: Forecast,
    union: UnionLedger,
    rule: tuple[str, UnionRule],
    decision: Decision,
    ask: Ask,
) -> None:
    """The allowed line takes its share of the union's headroom, as the real batch would."""
    left = decision.union_remaining_fen
    if union.union not in forecast.headroom:
        before = None if left is None else left + ask.amount_fen
        forecast.headroom[union.union] = _headroom(union, rule, before)
    union.reserve(
        UnionSpendingReserved(
            union=union.union,
            year=ask.business_date.year,
            rule=rule[0],
            clause=rule[1].clause,
            disbursement_id=ask.disbursement_id,
            member_id=ask.member_id,
            amount_fen=ask.amount_fen,
            business_date=ask.business_date,
        )
    )
    forecast.headroom[union.union].after_fen = left


def _close_headroom(
    forecast: Forecast, unions: dict[str, UnionLedger], rule: tuple[str, UnionRule] | None
) -> None:
    """Unions whose every line was refused still show where they stand."""
    if rule is None:
        return
    for name, union in unions.items():
        if name not in forecast.headroom:
            first = next(d for _, u, d in forecast.lines if u == name)
            forecast.headroom[name] = _headroom(union, rule, first.union_remaining_fen)
