"""The one decision: would this benefit, for this member, on this business date, be allowed?

`decide` is pure. It reads the policy version in force on the business date, the member's facts
as of that date, the member's ledger and (for a union-level rule) the union's ledger, and
nothing else: no clock, no database. The real reservation, `POST /v1/checks`, a batch's dry run
and a draft policy's what-if all call it, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import replace

from services.entitlements.domain.asks import (
    Ask,
    Decision,
    LedgerState,
    MemberFacts,
    Refusal,
    UnionStandard,
    UnionState,
)
from services.entitlements.domain.policy import BenefitRule, PolicyVersion, UnionRule
from services.entitlements.domain.rules import (
    CHECKS,
    births_apart,
    within_limits,
    within_union_rule,
)


def ledger_year(policy: PolicyVersion, ask: Ask, facts: MemberFacts | None) -> int:
    """Which year's ledger holds the decision: a child's gift lives in the child's birth year,
    a once-a-cycle benefit in the cycle's first year, everything else in the business year."""
    rule = policy.rule_for(ask.benefit)
    year = ask.business_date.year
    if rule is None:
        return year
    if rule.count_per == "plan_cycle":
        return rule.cycle_of(year)[0]
    if rule.count_per == "child" and facts is not None:
        child = facts.child(ask.child_id)
        if child is not None:
            return child.birth_date.year
    return year


def count_key(rule: BenefitRule, ask: Ask) -> str | None:
    if rule.count_per in ("child", "child_year"):
        return f"child:{ask.child_id}"
    if rule.count_per == "plan_cycle":
        first, last = rule.cycle_of(ask.business_date.year)
        return f"cycle:{first}-{last}"
    return None


def decide(
    policy: PolicyVersion,
    facts: MemberFacts,
    ledger: LedgerState,
    union_ledger: UnionState | None,
    ask: Ask,
) -> Decision:
    """Allowed, or refused citing the first rule that says no, its clause and what remains."""
    year = ledger_year(policy, ask, facts)
    base = Decision(
        allowed=False,
        benefit=ask.benefit,
        amount_fen=ask.amount_fen,
        policy_version=policy.version,
        clause="-",
        ledger_year=year,
    )
    rule = policy.rule_for(ask.benefit)
    if rule is None:
        return _not_a_member_benefit(policy, ask, base)
    key = count_key(rule, ask)
    headroom = _headroom(rule, facts, ledger, ask, key)
    union = policy.union_rule_of(ask.benefit)
    union_left = _union_remaining(union, union_ledger)
    answer = replace(
        base,
        clause=rule.clause,
        count_key=key,
        remaining_fen=headroom[0],
        remaining_count=headroom[1],
        union=facts.base_union if union else None,
        union_rule=union[0] if union else None,
        union_remaining_fen=union_left,
    )
    try:
        for check in CHECKS:
            check(policy, rule, facts, ask)
        if ask.child_id and not ledger.spacing_approved(ask.child_id):
            births_apart(rule, facts, ask)
        within_limits(rule, facts, ask, headroom)
        if union is not None:
            within_union_rule(union[1], union_ledger, union_left, ask)
    except Refusal as no:
        union_clause = union[1].clause if union else None
        return _refused(answer, no, union_clause, union_left, headroom[0])
    return replace(
        answer,
        allowed=True,
        remaining_fen=None if headroom[0] is None else headroom[0] - ask.amount_fen,
        remaining_count=None if headroom[1] is None else headroom[1] - 1,
        union_remaining_fen=None if union_left is None else union_left - ask.amount_fen,
    )


def _refused(
    answer: Decision,
    no: Refusal,
    union_clause: str | None,
    union_left: int | None,
    remaining: int | None,
) -> Decision:
    """What remains is told under the clause cited: the union's, or the member's."""
    cited = no.clause or answer.clause
    return replace(
        answer,
        clause=cited,
        rule=no.rule,
        reason=no.reason,
        reason_en=no.en,
        remaining_fen=union_left if cited == union_clause else remaining,
    )


def _not_a_member_benefit(policy: PolicyVersion, ask: Ask, base: Decision) -> Decision:
    union_rule = policy.union_rules.get(ask.benefit)
    if union_rule is not None:
        return replace(
            base,
            clause=union_rule.clause,
            rule="benefit.union-level",
            reason=f"{union_rule.title}是工会层面的支出，不发放给个人会员，请记入工会账",
            reason_en=f"{union_rule.title_en} is the union's own spending, not paid to a member",
        )
    return replace(
        base,
        rule="benefit.unknown",
        reason=f"政策 {policy.version} 中没有这项待遇（{ask.benefit}）",
        reason_en=f"policy {policy.version} has no benefit {ask.benefit}",
    )


def yearly_cap(rule: BenefitRule, standard: UnionStandard | None) -> int | None:
    """The year's money cap of a line: the policy's, lowered by the union's own yearly total.
    The decision and every ledger view read it here, so they cannot tell two remainders."""
    cap = rule.cap_fen
    if standard is not None and standard.yearly_total_fen is not None:
        cap = standard.yearly_total_fen if cap is None else min(cap, standard.yearly_total_fen)
    return cap


def remaining_of(cap: int | None, used: int, reserved: int) -> int | None:
    return None if cap is None else cap - used - reserved


def _headroom(
    rule: BenefitRule, facts: MemberFacts, ledger: LedgerState, ask: Ask, key: str | None
) -> tuple[int | None, int | None]:
    """What remains of the amount cap and of the count for this request's line."""
    used, reserved, count = ledger.line(ask.benefit)
    remaining = remaining_of(yearly_cap(rule, facts.standard), used, reserved)
    if rule.max_count is None:
        return remaining, None
    held = count if key is None else ledger.scoped_count(ask.benefit, key)
    return remaining, rule.max_count - held


def _union_remaining(union: tuple[str, UnionRule] | None, ledger: UnionState | None) -> int | None:
    if union is None or union[1].max_multiple_of_dues is None or ledger is None:
        return None
    dues = ledger.dues_income_fen()
    if dues is None:
        return None
    return dues * (1 + union[1].max_multiple_of_dues) - ledger.spent_fen(union[0])
