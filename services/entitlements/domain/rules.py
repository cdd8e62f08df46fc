"""The rules a request must pass, in the order `decide` asks them; the first to say no raises
`Refusal` with the rule's code, the reason in Chinese (amounts in yuan) and in English."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from services.entitlements.contracts import GrantingLevel
from services.entitlements.domain.asks import Ask, MemberFacts, Refusal, UnionState
from services.entitlements.domain.policy import BenefitRule, PolicyVersion, UnionRule
from services.entitlements.domain.profile import ChildFacts, age_on
from shared.money import yuan_en, yuan_text


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
    if rule.max_child_age is not None and age_on(child.birth_date, ask.business_date) > (
        rule.max_child_age
    ):
        age = age_on(child.birth_date, ask.business_date)
        raise Refusal(
            "child.too-old",
            f"业务日期当天该子女已满 {age} 周岁，"
            f"超过{rule.title}的年龄上限 {rule.max_child_age} 周岁",
            f"the child is {age} on the business date, older than {rule.max_child_age}, the "
            f"age limit of {rule.title_en}",
        )


def too_close(rule: BenefitRule, children: Iterable[ChildFacts], child: ChildFacts) -> int | None:
    """Days between this birth and an earlier sibling's, when more than one delivery apart and
    less than the policy's plausible spacing; None when the births are plausible."""
    if rule.min_days_between_births is None:
        return None
    for other in children:
        gap = (child.birth_date - other.birth_date).days
        if rule.same_delivery_within_days < gap < rule.min_days_between_births:
            return gap
    return None


def births_apart(rule: BenefitRule, facts: MemberFacts, ask: Ask) -> None:
    """Refused for review, not for good: a reviewer who finds the births real approves them
    (`POST /v1/members/{id}/children/{child}/spacing-review`), and the gift is decided again."""
    child = facts.child(ask.child_id)
    gap = None if child is None else too_close(rule, facts.children, child)
    if gap is not None:
        raise Refusal(
            "child.births-too-close",
            f"与该会员另一子女的出生日期仅相隔 {gap} 天（少于 {rule.min_days_between_births} 天"
            f"，且相隔超过 {rule.same_delivery_within_days} 天、不属同一次分娩），请核实；"
            "核实无误的，由复核人员批准后重新申请",
            f"born {gap} days after another child of the member (less than "
            f"{rule.min_days_between_births} days, and more than "
            f"{rule.same_delivery_within_days} apart, so not one delivery): please check; once "
            "a reviewer approves the births, ask again",
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


CHECKS = (_period, _membership, _granting, _requirements, _trip)


def within_limits(
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


def within_union_rule(
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
