"""The one decision: would this benefit, for this member, on this business date, be allowed?

`decide` is pure. It reads the policy version in force on the business date, the member's facts
as of that date, the member's ledger and (for a union-level rule) the union's ledger, and
nothing else: no clock, no database. The real reservation, `POST /v1/checks`, a batch's dry run
and a draft policy's what-if all call it, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from services.entitlements.contracts import GrantingLevel
from services.entitlements.domain.policy import BenefitRule, PolicyVersion, UnionRule
from services.entitlements.domain.profile import ChildFacts
from shared.money import yuan_text


@dataclass(frozen=True)
class TripFacts:
    """An outing's shape, as the request describes it (clause 4)."""

    days: int
    nights: int
    cost_categories: tuple[str, ...]


@dataclass(frozen=True)
class Ask:
    """What is asked. `requested_on` is the business date on which the request was accepted:
    it, not the moment a consumer happens to read the request, decides whether the books of
    the business date's year were still open."""

    disbursement_id: str
    member_id: str
    benefit: str
    amount_fen: int
    business_date: date
    requested_on: date
    child_id: str | None = None
    granting_level: GrantingLevel | None = None
    trip: TripFacts | None = None


@dataclass(frozen=True)
class UnionStandard:
    """What the member's base union set for this benefit, in force on the business date."""

    union: str
    amount_fen: int | None = None
    standard_fen: int | None = None
    yearly_total_fen: int | None = None

    @property
    def limit_fen(self) -> int | None:
        return self.amount_fen if self.amount_fen is not None else self.standard_fen


@dataclass(frozen=True)
class MemberFacts:
    """The member as of the business date."""

    base_union: str
    join_date: date
    active: bool
    birthday: date  # the member's birthday in the business date's year
    employment_form: str
    groups: frozenset[str]
    children: tuple[ChildFacts, ...] = ()
    standard: UnionStandard | None = None

    def child(self, child_id: str | None) -> ChildFacts | None:
        return next((c for c in self.children if c.child_id == child_id), None)


class LedgerState(Protocol):
    """What a decision reads from a member's ledger."""

    def line(self, benefit: str) -> tuple[int, int, int]:
        """Used fen, reserved fen and count of a yearly line."""
        ...

    def scoped_count(self, benefit: str, key: str) -> int:
        """How many grants of `benefit` hold for `key` (a child, a cycle)."""
        ...


class UnionState(Protocol):
    """What a decision reads from a union's ledger."""

    def dues_income_fen(self) -> int | None: ...

    def spent_fen(self, rule: str) -> int:
        """Used plus reserved under a union-level rule."""
        ...


@dataclass(frozen=True)
class Decision:
    """The answer, with everything a finance officer needs to see why."""

    allowed: bool
    benefit: str
    amount_fen: int
    policy_version: str
    clause: str
    ledger_year: int
    rule: str = "allowed"
    reason: str | None = None  # in Chinese, amounts in yuan
    reason_en: str | None = None  # the same in English
    remaining_fen: int | None = None  # under the cited clause: after, if allowed; else before
    remaining_count: int | None = None
    count_key: str | None = None
    union: str | None = None  # the union whose ledger this also counts against
    union_rule: str | None = None
    union_remaining_fen: int | None = None


class Refusal(Exception):
    """Raised inside `decide` to stop at the first rule that says no."""

    def __init__(self, rule: str, reason: str, en: str, clause: str | None = None) -> None:
        super().__init__(rule)
        self.rule, self.reason, self.en, self.clause = rule, reason, en, clause


def yuan_en(fen: int) -> str:
    """An amount as an English reader reads it: `2,200.00 yuan`."""
    return yuan_text(fen).replace(" 元", " yuan")


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
        for check in _CHECKS:
            check(policy, rule, facts, ask)
        _within_limits(rule, facts, ask, headroom)
        if union is not None:
            _within_union_rule(union[1], union_ledger, union_left, ask)
    except Refusal as no:
        cited = no.clause or rule.clause
        remaining = union_left if union and cited == union[1].clause else headroom[0]
        return replace(
            answer,
            clause=cited,
            rule=no.rule,
            reason=no.reason,
            reason_en=no.en,
            remaining_fen=remaining,
        )
    return replace(
        answer,
        allowed=True,
        remaining_fen=None if headroom[0] is None else headroom[0] - ask.amount_fen,
        remaining_count=None if headroom[1] is None else headroom[1] - 1,
        union_remaining_fen=None if union_left is None else union_left - ask.amount_fen,
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


def _headroom(
    rule: BenefitRule, facts: MemberFacts, ledger: LedgerState, ask: Ask, key: str | None
) -> tuple[int | None, int | None]:
    """What remains of the amount cap and of the count for this request's line."""
    used, reserved, count = ledger.line(ask.benefit)
    cap = rule.cap_fen
    standard = facts.standard
    if standard is not None and standard.yearly_total_fen is not None:
        cap = standard.yearly_total_fen if cap is None else min(cap, standard.yearly_total_fen)
    remaining = None if cap is None else cap - used - reserved
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


# --- the rules, in the order they are asked -------------------------------------------------


def _period(policy: PolicyVersion, rule: BenefitRule, facts: MemberFacts, ask: Ask) -> None:
    if ask.business_date > ask.requested_on:
        raise Refusal(
            "period.future",
            f"业务日期 {ask.business_date} 晚于申请日 {ask.requested_on}，不能预先发放",
            f"the business date {ask.business_date} is after the day of the request "
            f"{ask.requested_on}: nothing is paid in advance",
        )
    closing = policy.books.closing_day(ask.business_date.year)
    if ask.requested_on > closing:
        raise Refusal(
            "period.closed",
            f"{ask.business_date.year} 年度账目已于 {closing} 关账，不再受理该年度的新申请",
            f"the books of {ask.business_date.year} closed on {closing}: no new requests for it",
        )


def _membership(policy: PolicyVersion, rule: BenefitRule, facts: MemberFacts, ask: Ask) -> None:
    if ask.business_date < facts.join_date:
        raise Refusal(
            "member.not-joined",
            f"业务日期早于入会日期 {facts.join_date}",
            f"the business date is before the member joined ({facts.join_date})",
        )
    if not facts.active:
        raise Refusal(
            "member.inactive",
            "业务日期当天会员身份不在有效期内",
            "not a member on the business date",
        )


def _granting(policy: PolicyVersion, rule: BenefitRule, facts: MemberFacts, ask: Ask) -> None:
    if (
        rule.granted_by is GrantingLevel.COUNTY_AND_ABOVE
        and ask.granting_level is GrantingLevel.BASE_UNION
    ):
        raise Refusal(
            "grant.level",
            f"{rule.title}由县级以上工会组织，基层工会不能发放",
            f"{rule.title_en} is granted by a union at county level or above, not a base union",
        )


def _requirements(policy: PolicyVersion, rule: BenefitRule, facts: MemberFacts, ask: Ask) -> None:
    for need in rule.requires:
        _REQUIREMENTS[need](rule, facts, ask)


def _birthday(rule: BenefitRule, facts: MemberFacts, ask: Ask) -> None:
    if facts.birthday > ask.business_date:
        raise Refusal(
            "birthday.not-reached",
            f"会员 {facts.birthday.year} 年的生日（{facts.birthday}）尚未到",
            f"the member's birthday of {facts.birthday.year} ({facts.birthday}) has not come",
        )


def _child(rule: BenefitRule, facts: MemberFacts, ask: Ask) -> None:
    if not ask.child_id:
        raise Refusal(
            "child.missing",
            f"{rule.title}须指明子女（child_id）",
            f"{rule.title_en} names the child (child_id)",
        )
    child = facts.child(ask.child_id)
    if child is None:
        raise Refusal(
            "child.unknown", "该子女未登记在此会员名下", "no such child is recorded for the member"
        )
    if child.birth_date > ask.business_date:
        raise Refusal(
            "child.not-born", "业务日期当天该子女尚未出生", "the child was not born by that date"
        )
    if rule.min_days_between_births is not None:
        _births_apart(rule, facts, child)


def _births_apart(rule: BenefitRule, facts: MemberFacts, child: ChildFacts) -> None:
    assert rule.min_days_between_births is not None
    for other in facts.children:
        gap = (child.birth_date - other.birth_date).days
        if 0 < gap < rule.min_days_between_births:
            raise Refusal(
                "child.births-too-close",
                f"与该会员另一子女的出生日期仅相隔 {gap} 天（少于 {rule.min_days_between_births} 天"
                "且非同日出生），请核实",
                f"born {gap} days after another child of the member (less than "
                f"{rule.min_days_between_births} days, and not twins): please check",
            )


def _within_policy(rule: BenefitRule, facts: MemberFacts, ask: Ask) -> None:
    child = facts.child(ask.child_id)
    if child is not None and not child.within_policy:
        raise Refusal(
            "child.outside-policy",
            "该子女不属于政策内生育",
            "the child was not born within the family-planning policy",
        )


def _group(rule: BenefitRule, facts: MemberFacts, ask: Ask) -> None:
    if not facts.groups & set(rule.eligible_groups):
        raise Refusal(
            "group.not-eligible",
            "仅限烈士家属、困难职工、新就业形态劳动者、农民工和少数民族职工的子女",
            "only for children of martyrs' families, members in hardship, new-employment-form "
            "workers, migrant workers and ethnic-minority members",
        )


def _new_form(rule: BenefitRule, facts: MemberFacts, ask: Ask) -> None:
    allowed = set(rule.occupations) if rule.occupations else None
    if facts.employment_form == "standard" or (
        allowed is not None and facts.employment_form not in allowed
    ):
        raise Refusal(
            "nef.not-eligible",
            "仅限货车司机、网约车司机、快递员、外卖配送员、家政服务员等新就业形态劳动者",
            "only for new-employment-form workers: truck and ride-hailing drivers, couriers, "
            "food-delivery riders, domestic-service workers",
        )


def _union_standard(rule: BenefitRule, facts: MemberFacts, ask: Ask) -> None:
    if facts.standard is None or facts.standard.limit_fen is None:
        raise Refusal(
            "standard.missing",
            f"所在基层工会尚未制定{rule.title}标准",
            f"the member's base union has set no standard for {rule.title_en}",
        )


_REQUIREMENTS: dict[str, Callable[[BenefitRule, MemberFacts, Ask], None]] = {
    "birthday_reached": _birthday,
    "child": _child,
    "within_policy": _within_policy,
    "eligible_group": _group,
    "new_employment_form": _new_form,
    "union_standard": _union_standard,
}


def _trip(policy: PolicyVersion, rule: BenefitRule, facts: MemberFacts, ask: Ask) -> None:
    if rule.trip is None:
        return
    trip = ask.trip
    if trip is None:
        raise Refusal(
            "trip.missing",
            f"{rule.title}须说明行程（天数、夜数、费用类别）",
            f"{rule.title_en} states the trip (days, nights, cost categories)",
        )
    if trip.days > rule.trip.max_days or trip.nights > rule.trip.max_nights:
        raise Refusal(
            "trip.duration",
            f"往返不超过 {rule.trip.max_days} 天 {rule.trip.max_nights} 晚"
            f"（本次 {trip.days} 天 {trip.nights} 晚）",
            f"at most {rule.trip.max_days} days and {rule.trip.max_nights} nights "
            f"(this trip: {trip.days} days, {trip.nights} nights)",
        )
    extra = sorted(set(trip.cost_categories) - set(rule.trip.cost_categories))
    if extra:
        raise Refusal(
            "trip.cost-category",
            f"不允许列支的费用类别：{'、'.join(extra)}",
            f"cost categories it may not pay for: {', '.join(extra)}",
        )


_CHECKS = (_period, _membership, _granting, _requirements, _trip)


def _within_limits(
    rule: BenefitRule, facts: MemberFacts, ask: Ask, headroom: tuple[int | None, int | None]
) -> None:
    remaining, remaining_count = headroom
    amount = yuan_text(ask.amount_fen)
    if ask.amount_fen < 1:
        raise Refusal("amount.not-positive", "金额须至少为 0.01 元", "at least 0.01 yuan")
    if rule.per_child_fen is not None:
        child = facts.child(ask.child_id)
        assert child is not None  # `child` is required wherever amounts are per child
        order = min(child.birth_order, max(rule.per_child_fen))
        limit = rule.per_child_fen[order]
        if ask.amount_fen > limit:
            raise Refusal(
                "amount.per-child",
                f"第 {order} 孩{rule.title}不超过 {yuan_text(limit)}，本次 {amount}",
                f"{rule.title_en} for child number {order} is at most {yuan_en(limit)}; "
                f"asked {yuan_en(ask.amount_fen)}",
            )
    standard = facts.standard
    if (
        standard is not None
        and standard.limit_fen is not None
        and ask.amount_fen > standard.limit_fen
    ):
        raise Refusal(
            "amount.union-standard",
            f"本次 {amount} 超过所在工会标准 {yuan_text(standard.limit_fen)}",
            f"{yuan_en(ask.amount_fen)} is more than the union's standard "
            f"{yuan_en(standard.limit_fen)}",
        )
    if remaining_count is not None and remaining_count < 1:
        raise Refusal("count.exhausted", _count_text(rule), _count_text_en(rule))
    if remaining is not None and ask.amount_fen > remaining:
        raise Refusal(
            "cap.exceeded",
            f"本次 {amount} 超过{rule.title}剩余额度 {yuan_text(remaining)}",
            f"{yuan_en(ask.amount_fen)} is more than what remains of {rule.title_en}: "
            f"{yuan_en(remaining)}",
        )


def _count_text(rule: BenefitRule) -> str:
    per = {
        "member_year": "每人每年",
        "plan_cycle": f"每人每 {rule.cycle_years} 年周期",
        "child": "每名子女",
        "child_year": "每名子女每年",
    }[rule.count_per]
    return f"{rule.title}{per}至多 {rule.max_count} 次，已用完"


def _count_text_en(rule: BenefitRule) -> str:
    per = {
        "member_year": "per member and year",
        "plan_cycle": f"per member in each {rule.cycle_years}-year cycle",
        "child": "per child",
        "child_year": "per child and year",
    }[rule.count_per]
    return f"{rule.title_en}: at most {rule.max_count} {per}, already used"


def _within_union_rule(
    rule: UnionRule, ledger: UnionState | None, remaining: int | None, ask: Ask
) -> None:
    if rule.max_multiple_of_dues is None:
        return
    if ledger is None or ledger.dues_income_fen() is None:
        raise Refusal(
            "union.no-dues-income",
            f"工会尚未登记 {ask.business_date.year} 年会费收入，无法核定{rule.title}",
            f"the union has recorded no dues income for {ask.business_date.year}: "
            f"{rule.title_en} cannot be decided",
            rule.clause,
        )
    assert remaining is not None
    if ask.amount_fen > remaining:
        raise Refusal(
            "union.topup-exceeded",
            f"工会文体活动支出将超过会费收入加 {rule.max_multiple_of_dues} 倍补充的上限"
            f"（剩余 {yuan_text(remaining)}，本次 {yuan_text(ask.amount_fen)}）",
            f"the union's culture and sports spending would pass dues income plus the "
            f"{rule.max_multiple_of_dues}x top-up (remaining {yuan_en(remaining)}, "
            f"asked {yuan_en(ask.amount_fen)})",
            rule.clause,
        )
