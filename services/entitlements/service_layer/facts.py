"""What a decision reads of a member besides the ledger: the member's facts as of the business
date with the union standard in force, and the child's other parents. The live decision, the
check, the forecast, the what-if and the ledger view all gather them here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from services.entitlements.adapters.projections import LIVE
from services.entitlements.domain.asks import Ask, MemberFacts, UnionStandard
from services.entitlements.domain.ledger import MemberLedger
from services.entitlements.domain.policy import BenefitRule, PolicyVersion
from services.entitlements.domain.profile import MemberProfile
from services.entitlements.domain.standards import UnionStandards
from services.entitlements.service_layer.policies import limit_for
from services.members.contracts import birthday_in
from shared.eventstore.store import EventStore


async def facts_of(
    store: EventStore,
    profile: MemberProfile,
    ask: Ask,
    policy: PolicyVersion,
    chain: list[UnionStandards] | None = None,
) -> MemberFacts:
    """The member as of the business date, with the base union's own standard for the benefit
    (from `chain` when a replay gives the standards as they stood at its point)."""
    day = ask.business_date
    standing = profile.standing_on(day)
    assert profile.join_date is not None and profile.birth_date is not None
    rule = policy.rule_for(ask.benefit)
    standard = None
    if rule is not None:
        standard = await standard_of(store, standing.base_union, ask.benefit, rule, day, chain)
    return MemberFacts(
        base_union=standing.base_union,
        join_date=profile.join_date,
        active=standing.active,
        birthday=profile.birthdays.get(day.year) or birthday_in(profile.birth_date, day.year),
        employment_form=standing.employment_form,
        groups=standing.groups,
        children=tuple(profile.children.values()),
        standard=standard,
    )


async def standard_of(
    store: EventStore,
    base_union: str,
    benefit: str,
    rule: BenefitRule,
    day: date,
    chain: list[UnionStandards] | None = None,
) -> UnionStandard | None:
    """The union standard a member's line is read under on `day`: the decision's and every
    ledger view's, by the same inheritance rule."""
    if not rule.union_may_set:
        return None
    found = await limit_for(
        store,
        base_union,
        benefit,
        day,
        inherited=rule.union_standard_inherited,
        chain=chain,
    )
    if found is None:
        return None
    return UnionStandard(
        union=found.union,
        amount_fen=found.amount_fen,
        standard_fen=found.standard_fen,
        yearly_total_fen=found.yearly_total_fen,
    )


async def other_parents(store: EventStore, child_id: str, member_id: str) -> list[str]:
    """The child's other parents who are members (a child is one identity across both)."""
    c = LIVE.children.c
    found = await store.session.scalars(
        select(c.member_id).where(c.child_id == child_id, c.member_id != member_id)
    )
    return sorted(found)


def held_by(ledgers: Iterable[MemberLedger], benefit: str) -> Counter[tuple[str, str]]:
    held: Counter[tuple[str, str]] = Counter()
    for other in ledgers:
        for (name, key), count in other.scoped.items():
            if name == benefit:
                held[(name, key)] += count
    return held
