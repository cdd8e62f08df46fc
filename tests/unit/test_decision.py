"""The one decision, without PostgreSQL or Kafka: every rule of the bundled policy just under,
at and just over its limit, the time model, and refusals that cite version, clause and what
remains."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pytest

from services.entitlements.contracts import GrantingLevel
from services.entitlements.domain.asks import Ask, Decision, MemberFacts, TripFacts, UnionStandard
from services.entitlements.domain.decision import decide, ledger_year
from services.entitlements.domain.policy import load_bundled_policies
from services.entitlements.domain.profile import ChildFacts, born_after_for

CJK = re.compile(r"[\u4e00-\u9fff]")
DAY = date(2026, 3, 1)
POLICY = load_bundled_policies().in_force(DAY)
RULES = POLICY.member_benefits


@dataclass
class Ledger:
    """A member's year as `decide` reads it."""

    lines: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    scoped: dict[tuple[str, str], int] = field(default_factory=dict)
    approved: set[str] = field(default_factory=set)

    def line(self, benefit: str) -> tuple[int, int, int]:
        return self.lines.get(benefit, (0, 0, 0))

    def scoped_count(self, benefit: str, key: str) -> int:
        return self.scoped.get((benefit, key), 0)

    def spacing_approved(self, child_id: str) -> bool:
        return child_id in self.approved


@dataclass
class Union:
    dues: int | None = 1_000_000
    spent: dict[str, int] = field(default_factory=dict)

    def dues_income_fen(self) -> int | None:
        return self.dues

    def spent_fen(self, rule: str) -> int:
        return self.spent.get(rule, 0)


FIRST = ChildFacts("c-1", date(2025, 10, 1), 1, True)
FACTS = MemberFacts(
    base_union="shanxi/taiyuan/xiaodian/bu-0001",
    join_date=date(2015, 7, 1),
    active=True,
    birthday=date(2026, 1, 20),
    employment_form="standard",
    groups=frozenset(),
    children=(FIRST,),
)
TRIP = TripFacts(2, 1, ("transport", "meals"))


def ask(benefit: str, amount: int, **kw: object) -> Ask:
    fields: dict[str, object] = {
        "disbursement_id": "d-1",
        "member_id": "m-1",
        "benefit": benefit,
        "amount_fen": amount,
        "business_date": DAY,
        "requested_on": DAY,
        **kw,
    }
    return Ask(**fields)  # type: ignore[arg-type]


def run(
    a: Ask, facts: MemberFacts = FACTS, ledger: Ledger | None = None, union: Union | None = None
) -> Decision:
    """`decide`, and what every answer owes its reader: a refusal says why in Chinese (amounts
    in yuan) and in English."""
    d = decide(POLICY, facts, ledger or Ledger(), union or Union(), a)
    if not d.allowed:
        assert d.reason and CJK.search(d.reason), d
        assert d.reason_en and not CJK.search(d.reason_en), d
        assert ("元" in d.reason) == ("yuan" in d.reason_en), d
    return d


def extra_for(benefit: str) -> dict[str, object]:
    """What a request for `benefit` needs besides an amount to pass its other rules."""
    return {
        "outing": {"trip": TRIP},
        "childbirth_gift": {"child_id": "c-1"},
        "summer_camp": {"child_id": "c-1"},
    }.get(benefit, {})


def facts_for(benefit: str) -> MemberFacts:
    return {
        "summer_camp": replace(FACTS, groups=frozenset({"migrant_worker"})),
        "nef_injury_insurance": replace(FACTS, employment_form="courier"),
        "training_subsidy": replace(FACTS, standard=UnionStandard("bu", standard_fen=80000)),
    }.get(benefit, FACTS)


CAPPED = sorted(b for b, r in RULES.items() if r.cap_fen is not None and r.yearly_cap)
COUNTED = sorted(b for b, r in RULES.items() if r.max_count is not None)


@pytest.mark.parametrize("benefit", CAPPED)
@pytest.mark.parametrize("over", [-1, 0, 1])
def test_every_yearly_amount_cap_just_under_at_and_over(benefit: str, over: int) -> None:
    rule = RULES[benefit]
    assert rule.cap_fen is not None
    used = rule.cap_fen - 10_000
    ledger = Ledger(lines={benefit: (used, 0, 0)})
    d = run(ask(benefit, 10_000 + over, **extra_for(benefit)), facts_for(benefit), ledger)
    assert d.allowed is (over <= 0), d
    assert (d.clause, d.policy_version) == (rule.clause, POLICY.version)
    if over > 0:
        assert (d.rule, d.remaining_fen) == ("cap.exceeded", 10_000)
        assert "100.00 元" in (d.reason or "")
    else:
        assert d.remaining_fen == -over


@pytest.mark.parametrize("benefit", COUNTED)
@pytest.mark.parametrize("held_below_max", [1, 0])
def test_every_count_just_under_and_at_its_limit(benefit: str, held_below_max: int) -> None:
    rule = RULES[benefit]
    assert rule.max_count is not None
    a = ask(benefit, 100, **extra_for(benefit))
    held = rule.max_count - held_below_max
    from services.entitlements.domain.decision import count_key

    key = count_key(rule, a)
    ledger = (
        Ledger(lines={benefit: (0, 0, held)})
        if key is None
        else Ledger(scoped={(benefit, key): held})
    )
    d = run(a, facts_for(benefit), ledger)
    assert d.allowed is (held_below_max == 1), d
    if not d.allowed:
        assert (d.rule, d.remaining_count, d.clause) == ("count.exhausted", 0, rule.clause)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("over", [0, 1])
def test_childbirth_gift_by_birth_order(order: int, over: int) -> None:
    per_child = RULES["childbirth_gift"].per_child_fen
    assert per_child is not None
    limit = per_child[min(order, 3)]
    child = ChildFacts("c-9", date(2026, 2, 1), order, True)
    d = run(ask("childbirth_gift", limit + over, child_id="c-9"), replace(FACTS, children=(child,)))
    assert d.allowed is (over == 0)
    assert d.ledger_year == 2026
    if over:
        assert d.rule == "amount.per-child"


def test_births_less_than_180_days_apart_unless_twins() -> None:
    second = ChildFacts("c-2", FIRST.birth_date + timedelta(days=90), 2, True)
    twin = ChildFacts("c-3", FIRST.birth_date, 2, True)
    facts = replace(FACTS, children=(FIRST, second, twin))
    assert run(ask("childbirth_gift", 100, child_id="c-2"), facts).rule == "child.births-too-close"
    reviewed = Ledger(approved={"c-2"})  # a reviewer found the births real
    assert run(ask("childbirth_gift", 100, child_id="c-2"), facts, reviewed).allowed
    assert run(ask("childbirth_gift", 100, child_id="c-3"), facts).allowed
    assert run(ask("childbirth_gift", 100, child_id="c-1"), facts).allowed  # the earlier birth
    for gap, allowed in ((1, True), (2, True), (3, False), (179, False), (180, True)):
        # a day or two apart: twins either side of midnight, one delivery
        later = ChildFacts("c-4", FIRST.birth_date + timedelta(days=gap), 2, True)
        spaced = replace(FACTS, children=(FIRST, later))
        on = later.birth_date
        d = run(
            ask("childbirth_gift", 100, child_id="c-4", business_date=on, requested_on=on), spaced
        )
        assert d.allowed is allowed, d


def test_a_child_must_be_named_known_born_and_within_policy() -> None:
    assert run(ask("childbirth_gift", 100)).rule == "child.missing"
    assert run(ask("childbirth_gift", 100, child_id="c-x")).rule == "child.unknown"
    unborn = ChildFacts("c-5", DAY + timedelta(days=1), 1, True)
    facts = replace(FACTS, children=(unborn,))
    early = ask("childbirth_gift", 100, child_id="c-5", requested_on=DAY + timedelta(days=1))
    assert run(early, facts).rule == "child.not-born"
    outside = replace(FACTS, children=(replace(FIRST, within_policy=False),))
    assert run(ask("childbirth_gift", 100, child_id="c-1"), outside).rule == "child.outside-policy"


def test_the_childbirth_gift_lives_in_the_childs_birth_year() -> None:
    d = run(ask("childbirth_gift", 100, child_id="c-1"))
    assert d.allowed and d.ledger_year == 2025 and d.count_key == "child:c-1"


def test_the_time_model() -> None:
    tomorrow = ask("holiday_gift", 100, business_date=DAY + timedelta(days=1))
    assert run(tomorrow).rule == "period.future"
    closing = POLICY.books.closing_day(2025)
    on_the_day = ask("holiday_gift", 100, business_date=date(2025, 12, 31), requested_on=closing)
    assert run(on_the_day).allowed
    late = replace(on_the_day, requested_on=closing + timedelta(days=1))
    refused = run(late)
    assert (refused.rule, refused.policy_version, refused.clause) == (
        "period.closed",
        POLICY.version,
        "7.holiday",
    )
    before_joining = ask("holiday_gift", 100, business_date=date(2015, 6, 30))
    assert run(before_joining).rule in ("member.not-joined", "period.closed")
    joined_today = replace(FACTS, join_date=DAY)
    assert run(ask("holiday_gift", 100), joined_today).allowed
    assert run(
        ask("holiday_gift", 100), replace(FACTS, join_date=DAY + timedelta(days=1))
    ).rule == ("member.not-joined")
    assert run(ask("holiday_gift", 100), replace(FACTS, active=False)).rule == "member.inactive"


def test_the_birthday_is_read_as_of_the_business_date() -> None:
    may = replace(FACTS, birthday=date(2026, 5, 14))
    assert run(ask("birthday_gift", 5000, business_date=date(2026, 1, 3)), may).rule == (
        "birthday.not-reached"
    )
    on_the_day = ask("birthday_gift", 5000, business_date=date(2026, 5, 14))
    assert run(replace(on_the_day, requested_on=date(2026, 5, 14)), may).allowed


def test_summer_camp_needs_an_eligible_group_and_a_county_level_union() -> None:
    camp = ask("summer_camp", 100, child_id="c-1")
    assert run(camp).rule == "group.not-eligible"
    eligible = facts_for("summer_camp")
    assert run(camp, eligible).allowed
    by_base = replace(camp, granting_level=GrantingLevel.BASE_UNION)
    assert run(by_base, eligible).rule == "grant.level"
    by_county = replace(camp, granting_level=GrantingLevel.COUNTY_AND_ABOVE)
    assert run(by_county, eligible).allowed
    assert run(replace(camp, child_id=None), eligible).rule == "child.missing"


@pytest.mark.parametrize(
    ("born", "allowed"),
    [(date(2007, 3, 2), True), (date(2007, 3, 1), False), (date(1995, 1, 1), False)],
)
def test_a_summer_camp_is_for_a_child_of_at_most_18_on_the_business_date(
    born: date, allowed: bool
) -> None:
    """A camp was once paid for a 31-year-old "child": the age rule lived only in the list."""
    grown = ChildFacts("c-7", born, 1, True)
    facts = replace(facts_for("summer_camp"), children=(grown,))
    decision = run(ask("summer_camp", 100, child_id="c-7"), facts)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.rule == "child.too-old"
    cutoff = born_after_for(18, DAY)  # the eligibility list's rule: born after the cutoff
    assert (born > cutoff) is allowed


def test_nef_insurance_only_for_the_listed_occupations() -> None:
    insurance = ask("nef_injury_insurance", 100)
    assert run(insurance).rule == "nef.not-eligible"
    assert run(insurance, replace(FACTS, employment_form="courier")).allowed
    assert run(insurance, replace(FACTS, employment_form="astronaut")).rule == "nef.not-eligible"
    base = replace(insurance, granting_level=GrantingLevel.BASE_UNION)
    assert run(base, replace(FACTS, employment_form="courier")).rule == "grant.level"


@pytest.mark.parametrize("over", [0, 1])
def test_training_subsidy_under_the_base_unions_own_standard(over: int) -> None:
    assert run(ask("training_subsidy", 100)).rule == "standard.missing"
    own = replace(FACTS, standard=UnionStandard("bu", standard_fen=80000, yearly_total_fen=100000))
    d = run(ask("training_subsidy", 80000 + over), own)
    assert d.allowed is (over == 0)
    if over:
        assert d.rule == "amount.union-standard"
    used = Ledger(lines={"training_subsidy": (60000, 0, 1)})
    d = run(ask("training_subsidy", 40000 + over), own, used)
    assert d.allowed is (over == 0)
    if over:
        assert (d.rule, d.remaining_fen) == ("cap.exceeded", 40000)


@pytest.mark.parametrize("days, nights, categories, rule", [
    (2, 1, ("transport", "accommodation"), "allowed"),
    (3, 2, ("transport",), "trip.duration"),
    (2, 2, ("transport",), "trip.duration"),
    (1, 0, ("souvenirs",), "trip.cost-category"),
])  # fmt: skip
def test_outings_follow_the_policys_trip_limits(
    days: int, nights: int, categories: tuple[str, ...], rule: str
) -> None:
    d = run(ask("outing", 100, trip=TripFacts(days, nights, categories)))
    assert d.rule == rule
    assert run(ask("outing", 100)).rule == "trip.missing"


def test_recuperation_once_per_plan_cycle_held_in_the_cycles_first_year() -> None:
    trip = ask("recuperation", 100, business_date=date(2026, 5, 1), requested_on=date(2026, 5, 1))
    first = run(trip)
    assert (first.allowed, first.ledger_year, first.count_key) == (True, 2025, "cycle:2025-2029")
    went = Ledger(scoped={("recuperation", "cycle:2025-2029"): 1})
    assert run(trip, ledger=went).rule == "count.exhausted"
    next_cycle = replace(trip, business_date=date(2030, 5, 1), requested_on=date(2030, 5, 1))
    assert ledger_year(POLICY, next_cycle, FACTS) == 2030


@pytest.mark.parametrize("over", [0, 1])
def test_culture_and_sports_against_dues_plus_four_times(over: int) -> None:
    union = Union(dues=10_000, spent={"culture_sports_topup": 40_000})  # limit 50,000
    d = run(ask("culture_sports", 10_000 + over), union=union)
    assert d.allowed is (over == 0)
    assert d.union == FACTS.base_union and d.union_rule == "culture_sports_topup"
    if over:
        assert (d.rule, d.clause, d.remaining_fen) == ("union.topup-exceeded", "3.topup", 10_000)
    else:
        assert (d.remaining_fen, d.union_remaining_fen) == (40_000, 0)
    unrecorded = run(ask("culture_sports", 100), union=Union(dues=None))
    assert (unrecorded.rule, unrecorded.clause) == ("union.no-dues-income", "3.topup")


def test_consumption_assistance_is_not_paid_to_a_member() -> None:
    d = run(ask("consumption_assistance", 100))
    assert (d.allowed, d.rule, d.clause) == (
        False,
        "benefit.union-level",
        "8.consumption-assistance",
    )


def test_amounts_are_positive() -> None:
    assert run(ask("holiday_gift", 0)).rule == "amount.not-positive"


def test_a_voucher_given_back_keeps_its_count_while_other_benefits_return_theirs() -> None:
    from services.entitlements.domain.ledger import MemberLedger

    ledger = MemberLedger("ledger-m-1-2026")
    ledger.open(member_id="m-1", year=2026, base_union="u", policy=POLICY, source_event_id="-")
    for n, benefit, keeps in ((1, "voucher", True), (2, "culture_tourism_product", False)):
        a = ask(benefit, 30000, disbursement_id=f"d-{n}")
        assert ledger.record(a, decide(POLICY, FACTS, ledger, None, a)).status == "reserved"
        ledger.commit(a.disbursement_id)
        ledger.reverse(a.disbursement_id, "expired unused", keeps_count=keeps)
        again = ask(benefit, 30000, disbursement_id=f"d-{n}-again")
        decision = decide(POLICY, FACTS, ledger, None, again)
        assert ledger.line(benefit)[0] == 0  # the money went back either way
        assert decision.allowed is not keeps, decision
