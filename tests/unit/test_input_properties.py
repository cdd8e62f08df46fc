"""Properties of what feeds a decision: union standards set over time, dates inside a request's
details, and children shared by two parents. However the inputs are generated, no ceiling,
count or date bound is passed, a standard never changes a day already past, and the age rule
of the decision is the eligibility list's."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.disbursements.domain.benefits import References, check_details
from services.entitlements.contracts import Benefit
from services.entitlements.domain.asks import Ask, UnionStandard, WithOtherParents
from services.entitlements.domain.decision import decide, ledger_year
from services.entitlements.domain.ledger import MemberLedger
from services.entitlements.domain.profile import ChildFacts, age_on, born_after_for
from services.entitlements.domain.settlement import settle
from services.entitlements.domain.standards import UnionStandards, union_limit
from shared.errors import DomainError, InvalidInput
from tests.unit.test_benefit_details import TAIYUAN, outing, total
from tests.unit.test_decision import FACTS
from tests.unit.test_decision_properties import BOOK

POLICY = BOOK.in_force(date(2026, 6, 1))
COUNTY = "shanxi/taiyuan/xiaodian"
BASE = f"{COUNTY}/bu-0001"
START = date(2026, 1, 1)
SETTABLE = {
    "voucher": ("amount_fen", "expiry_days"),
    "training_subsidy": ("standard_fen", "yearly_total_fen"),
}
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ceiling(benefit: str, name: str) -> int:
    rule = POLICY.rule_for(benefit)
    assert rule is not None
    ceiling = rule.ceiling_of(name)  # type: ignore[arg-type]
    assert ceiling is not None, (benefit, name)
    return ceiling


attempts = st.lists(
    st.tuples(
        st.integers(0, 300),  # the day it is set
        st.integers(-40, 60),  # effective this many days later (or earlier)
        st.sampled_from(sorted(SETTABLE)),
        st.booleans(),  # first or second value the union may set
        st.floats(0, 2.5),  # fraction of the ceiling
        st.sampled_from([BASE, COUNTY]),  # who sets it
    ),
    min_size=1,
    max_size=25,
)


@PROPERTY
@given(attempts)
def test_union_standards_stay_under_the_ceiling_and_never_rewrite_a_past_day(
    tried: list[tuple[int, int, str, bool, float, str]],
) -> None:
    base, county = UnionStandards(f"standards-{BASE}"), UnionStandards(f"standards-{COUNTY}")
    chain = [base, county]
    for day, offset, benefit, second, share, setter in sorted(tried):
        today = START + timedelta(days=day)
        name = SETTABLE[benefit][second]
        value = max(1, int(_ceiling(benefit, name) * share))
        past = [today - timedelta(days=n) for n in range(1, 60)]
        before = [union_limit(chain, benefit, d) for d in past]
        target = base if setter == BASE else county
        try:
            event = target.set(
                benefit=benefit,
                effective_from=today + timedelta(days=offset),
                values={name: value},
                policy=POLICY,
                set_by="finance",
                set_by_org=setter,
                today=today,
            )
        except DomainError:
            assert target.pending == [] or target.pending[-1].effective_from >= START
            continue
        assert event.effective_from >= today and value <= _ceiling(benefit, name)
        assert [union_limit(chain, benefit, d) for d in past] == before  # history holds
    for benefit, names in SETTABLE.items():
        inherited = bool(POLICY.member_benefits[benefit].union_standard_inherited)  # type: ignore[index]
        reads = chain if inherited else [base]
        for day in range(0, 380, 7):
            found = union_limit(reads, benefit, START + timedelta(days=day))
            for name in names:
                value = getattr(found, name, None)
                assert value is None or value <= _ceiling(benefit, name)


@PROPERTY
@given(st.integers(0, 300), st.integers(1, 40_000), st.floats(0, 2.5))
def test_a_voucher_under_any_standard_never_passes_it_or_the_provincial_cap(
    day: int, amount: int, share: float
) -> None:
    on = START + timedelta(days=day)
    ceiling = _ceiling("voucher", "amount_fen")
    standard = max(1, min(ceiling, int(ceiling * share)))  # what the aggregate lets through
    facts = replace(FACTS, standard=UnionStandard(BASE, amount_fen=standard))
    ask = Ask(
        disbursement_id="d-1",
        member_id="m-1",
        benefit="voucher",
        amount_fen=amount,
        business_date=on,
        requested_on=on,
    )
    decided = decide(BOOK.in_force(on), facts, _ledger("m-1", on.year), None, ask)
    if decided.allowed:
        assert amount <= standard <= ceiling


REFS = References.bundled()
DATES = st.dates(date(2024, 1, 1), date(2028, 12, 31))


@PROPERTY
@given(DATES, DATES, st.dates(date(2025, 1, 1), date(2027, 12, 31)))
def test_a_trip_is_accepted_only_inside_the_business_dates_year(
    start: date, end: date, on: date
) -> None:
    start, end = min(start, end), max(start, end)
    if (end - start).days > 1:  # an outing is at most two days
        end = start + timedelta(days=1)
    details = outing(start_date=start.isoformat(), end_date=end.isoformat())
    if start == end:  # a day trip: no night, one day's meals
        details["cost_lines"] = [
            {"category": "transport", "amount_fen": 10000},
            {"category": "meals", "amount_fen": TAIYUAN.meals_fen},
        ]
    inside = start.year == end.year == on.year
    try:
        check_details(Benefit.OUTING, details, total(details), REFS, on)
    except InvalidInput as refused:
        assert not inside
        assert refused.extensions["rule"] == "details.date-outside-year"
    else:
        assert inside


def _ledger(member_id: str, year: int) -> MemberLedger:
    ledger = MemberLedger(f"ledger-{member_id}-{year}")
    ledger.open(
        member_id=member_id,
        year=year,
        base_union=FACTS.base_union,
        policy=BOOK.in_force(date(year, 12, 31)),
        source_event_id="-",
    )
    return ledger


@st.composite
def families(draw: st.DrawFn) -> tuple[list[ChildFacts], list[tuple[int, int, int, bool]]]:
    """Children of two parents who are both members (twins either side of midnight, children
    turning 18 during the year), and camps asked for through either parent, some issued."""
    born: list[date] = []
    for _ in range(draw(st.integers(1, 4))):
        day = draw(st.dates(date(2006, 6, 1), date(2026, 6, 1)))
        born.append(day)
        if draw(st.booleans()):
            born.append(day + timedelta(days=1))  # a twin after midnight
    children = [ChildFacts(f"c-{i}", b, i + 1, True) for i, b in enumerate(sorted(born))]
    asks = draw(
        st.lists(
            st.tuples(
                st.integers(0, 1),  # which parent
                st.integers(0, len(children) - 1),
                st.integers(0, 364),  # business day of 2026
                st.booleans(),  # issued afterwards
            ),
            min_size=1,
            max_size=20,
        )
    )
    return children, asks


@PROPERTY
@given(families())
def test_a_childs_camp_is_one_a_year_whichever_parent_asks_and_only_up_to_the_age(
    family: tuple[list[ChildFacts], list[tuple[int, int, int, bool]]],
) -> None:
    children, asks = family
    facts = replace(
        FACTS,
        children=tuple(children),
        groups=frozenset({"migrant_worker"}),
    )
    parents = {p: _ledger(f"m-{p}", 2026) for p in (0, 1)}
    rule = POLICY.member_benefits["summer_camp"]
    granted: dict[str, list[date]] = {}
    for n, (parent, child_no, day, issued) in enumerate(asks):
        on = START + timedelta(days=day)
        child = children[child_no]
        ask = Ask(
            disbursement_id=f"d-{n}",
            member_id=f"m-{parent}",
            benefit="summer_camp",
            amount_fen=10_000,
            business_date=on,
            requested_on=on,
            child_id=child.child_id,
        )
        policy = BOOK.in_force(on)
        assert ledger_year(policy, ask, facts) == 2026
        own, other = parents[parent], parents[1 - parent]
        others = {k: v for k, v in other.scoped.items() if k[0] == "summer_camp"}
        decided = decide(policy, facts, WithOtherParents(own, others), None, ask)
        own.record(ask, decided, child.child_id)
        if decided.allowed:
            granted.setdefault(child.child_id, []).append(on)
            assert rule.max_child_age is not None
            assert age_on(child.birth_date, on) <= rule.max_child_age
            assert child.birth_date > born_after_for(rule.max_child_age, on)  # the list agrees
            outcome = "issued" if issued else "cancelled"
            settle(own, None, ask.disbursement_id, outcome, reason="-", on=on, rule=rule)
            if not issued:
                granted[child.child_id].pop()
    for child_id, days in granted.items():
        assert len(days) <= 1, (child_id, days)  # both parents together


@pytest.mark.parametrize("years", [17, 18, 19])
@given(st.dates(date(2025, 1, 1), date(2027, 12, 31)))
@PROPERTY
def test_the_age_rule_and_the_eligibility_lists_boundary_are_one(years: int, day: date) -> None:
    boundary = born_after_for(years, day)
    for born in (boundary - timedelta(days=1), boundary, boundary + timedelta(days=1)):
        assert (age_on(born, day) <= years) == (born > boundary), (born, day)
