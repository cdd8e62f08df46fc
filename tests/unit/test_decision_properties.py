"""Property: for any sequence of requests, redeliveries, issues, cancellations and reversals,
on any business dates, no cap or count is ever passed, and what a check answers before a
request is what the ledger then records for it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.entitlements.contracts import UnionFinancesRecorded, UnionSpendingReserved
from services.entitlements.domain.asks import Ask
from services.entitlements.domain.decision import decide, ledger_year
from services.entitlements.domain.ledger import MemberLedger, ledger_id
from services.entitlements.domain.policy import PolicyVersion, load_bundled_policies
from services.entitlements.domain.profile import ChildFacts
from services.entitlements.domain.settlement import Outcome, settle
from services.entitlements.domain.union_ledger import UnionLedger
from tests.unit.test_decision import FACTS, TRIP

BOOK = load_bundled_policies()
TODAY = date(2026, 11, 28)
CHILDREN = (
    ChildFacts("c-1", date(2026, 1, 10), 1, True),
    ChildFacts("c-2", date(2026, 1, 10), 2, True),  # a twin
    ChildFacts("c-3", date(2026, 4, 1), 3, True),  # too soon after the twins
)
FACTS_ALL = replace(
    FACTS,
    employment_form="courier",
    groups=frozenset({"new_employment_form"}),
    children=CHILDREN,
    birthday=date(2026, 2, 1),
)
BENEFITS = [
    "voucher",
    "culture_sports",
    "outing",
    "culture_tourism_product",
    "summer_camp",
    "holiday_gift",
    "birthday_gift",
    "childbirth_gift",
    "nef_injury_insurance",
    "recuperation",
]

AMOUNTS = st.one_of(  # amounts near the caps are the interesting ones
    st.sampled_from([1, 100, 5_000, 10_000, 20_000, 30_000, 50_000, 70_000, 220_000]),
    st.integers(1, 300_000),
)


@st.composite
def scenarios(draw: st.DrawFn) -> list[tuple[object, ...]]:
    """A few benefits asked for again and again, with issues, cancellations and reversals
    (and redeliveries: a repeated disbursement id) in between."""
    benefits = draw(st.lists(st.sampled_from(BENEFITS), min_size=1, max_size=3, unique=True))
    request = st.tuples(
        st.just("request"),
        st.integers(0, 11),
        st.sampled_from(benefits),
        AMOUNTS,
        st.integers(0, 330),  # business day of 2026
        st.sampled_from([None, "c-1", "c-2", "c-3"]),
    )
    change = st.tuples(st.sampled_from(["issue", "cancel", "reverse"]), st.integers(0, 11))
    return draw(st.lists(st.one_of(request, request, change), min_size=5, max_size=60))


class World:
    """One member's ledgers (by year) and the union's ledger, driven only by the domain."""

    def __init__(self) -> None:
        self.ledgers: dict[int, MemberLedger] = {}
        self.union = UnionLedger("unionledger-u-2026")
        self.union.record_finances(
            UnionFinancesRecorded(
                union=FACTS.base_union,
                year=2026,
                dues_income_fen=20_000,
                budget_fen=1_000_000,
                consumption_share_fen=0,
                recorded_by="t",
            )
        )
        self.where: dict[str, int] = {}
        self.ever_issued: dict[tuple[int, str], set[str]] = {}

    def ledger(self, year: int) -> MemberLedger:
        if year not in self.ledgers:
            ledger = MemberLedger(f"ledger-{ledger_id('m-1', year)}")
            ledger.open(
                member_id="m-1",
                year=year,
                base_union=FACTS.base_union,
                policy=BOOK.in_force(date(year, 12, 31)),
                source_event_id="-",
            )
            self.ledgers[year] = ledger
        return self.ledgers[year]

    def request(self, n: int, benefit: str, amount: int, day: int, child: str | None) -> None:
        on = date(2026, 1, 1) + timedelta(days=day)
        ask = Ask(
            disbursement_id=f"d-{n}",
            member_id="m-1",
            benefit=benefit,
            amount_fen=amount,
            business_date=on,
            requested_on=TODAY,
            child_id=child,
            trip=TRIP if benefit == "outing" else None,
        )
        policy = BOOK.in_force(on)
        first_time = ask.disbursement_id not in self.where
        year = self.where.get(ask.disbursement_id) or ledger_year(policy, ask, FACTS_ALL)
        ledger = self.ledger(year)
        checked = decide(policy, FACTS_ALL, ledger, self.union, ask)
        outcome = ledger.record(ask, decide(policy, FACTS_ALL, ledger, self.union, ask))
        if first_time:
            self.where[ask.disbursement_id] = year
            assert outcome.status == ("reserved" if checked.allowed else "rejected")
            if checked.allowed and checked.union_rule:
                self.union.reserve(
                    UnionSpendingReserved(
                        union=FACTS.base_union,
                        year=2026,
                        rule=checked.union_rule,
                        clause="3.topup",
                        disbursement_id=ask.disbursement_id,
                        member_id="m-1",
                        amount_fen=amount,
                    )
                )

    def change(self, what: str, n: int) -> None:
        year = self.where.get(f"d-{n}")
        if year is None:
            return
        ledger, key = self.ledgers[year], f"d-{n}"
        held = ledger.decisions.get(key)
        outcome: Outcome = "issued" if what == "issue" else "cancelled"
        if what not in ("issue", "cancel"):
            if held is None:
                return
            outcome = "reversed"
        policy = BOOK.in_force(TODAY)
        rule = policy.rule_for(held.event.benefit) if held is not None else None
        settle(ledger, self.union, key, outcome, reason=what, rule=rule)
        if outcome == "issued" and held is not None and held.status == "reserved":
            self.ever_issued.setdefault((year, held.event.benefit), set()).add(key)

    def assert_within_every_limit(self) -> None:
        policy = BOOK.in_force(TODAY)
        for ledger in self.ledgers.values():
            for benefit, rule in policy.member_benefits.items():
                used, reserved, count = ledger.line(benefit)
                assert used >= 0 and reserved >= 0 and count >= 0
                if rule.cap_fen is not None and rule.yearly_cap:
                    assert used + reserved <= rule.cap_fen, (benefit, used, reserved)
                if rule.max_count is not None and rule.yearly_cap:
                    assert count <= rule.max_count, (benefit, count)
            for (benefit, _key), held in ledger.scoped.items():
                limit = policy.member_benefits[benefit].max_count  # type: ignore[index]
                assert limit is not None and 0 <= held <= limit
            self.assert_outcomes_within_caps(ledger, policy)
        for (_, benefit), issued in self.ever_issued.items():
            rule = policy.member_benefits[benefit]  # type: ignore[index]
            if rule.count_kept_once_issued:
                assert rule.max_count is not None and len(issued) <= rule.max_count
        assert self.union.spent_fen("culture_sports_topup") <= 20_000 * 5
        assert "c-3" not in self.granted_children()

    @staticmethod
    def assert_outcomes_within_caps(ledger: MemberLedger, policy: PolicyVersion) -> None:
        """Recount from the outcomes themselves, not from the ledger's running balances."""
        held: dict[str, int] = {}
        for outcome in ledger.decisions.values():
            if outcome.status in ("reserved", "committed"):
                held[outcome.event.benefit] = held.get(outcome.event.benefit, 0) + (
                    outcome.event.amount_fen
                )
        for benefit, total in held.items():
            rule = policy.member_benefits[benefit]  # type: ignore[index]
            if rule.cap_fen is not None and rule.yearly_cap:
                assert total <= rule.cap_fen, (benefit, total)

    def granted_children(self) -> set[str]:
        return {c for ledger in self.ledgers.values() for c in ledger.child_grants}


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_no_cap_or_count_is_ever_passed_and_check_equals_the_decision(steps: list) -> None:  # type: ignore[type-arg]
    world = World()
    for step in steps:
        if step[0] == "request":
            world.request(*step[1:])
        else:
            world.change(step[0], step[1])
        world.assert_within_every_limit()
