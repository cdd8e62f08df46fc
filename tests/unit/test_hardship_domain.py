"""The hardship register's rules without a database: the level a household's income gives, a
file's life on the register, and four eyes on relief."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.hardship.contracts import (
    HardshipLevel,
    HouseholdEnteredRegister,
    HouseholdExitedRegister,
    ReliefGranted,
)
from services.hardship.domain.case import Case
from services.hardship.domain.criteria import CriteriaBook
from shared.errors import Conflict, Forbidden, InvalidInput

DAY = date(2026, 3, 2)
CRITERIA = CriteriaBook.bundled().in_force(DAY)
TAIYUAN = CRITERIA.standard_for("taiyuan")  # fen per person per month


@pytest.mark.parametrize(
    ("income", "causes", "sudden", "level"),
    [
        (TAIYUAN - 1, [], False, HardshipLevel.DEEP),
        (TAIYUAN, [], False, HardshipLevel.RELATIVE),  # at the standard: no longer deep
        (TAIYUAN * 3 // 2 - 1, [], False, HardshipLevel.RELATIVE),
        (TAIYUAN * 3 // 2, [], False, None),  # at 1.5x the standard: not in hardship
        (TAIYUAN * 3, ["accident"], True, HardshipLevel.ACCIDENT),
        (TAIYUAN * 3, ["accident"], False, None),  # 意外致困 needs a sudden cause
        (TAIYUAN * 3, ["unemployment"], True, None),
    ],
)
def test_the_level_follows_income_per_head_against_the_city_standard(
    income: int, causes: list[str], sudden: bool, level: HardshipLevel | None
) -> None:
    assert CRITERIA.level("taiyuan", income, causes, sudden) is level


def test_a_city_without_its_own_standard_uses_the_default() -> None:
    assert CRITERIA.standard_for("Nowhere") == CRITERIA.minimum_living_standard_fen["default"]


def _on_register(level: HardshipLevel = HardshipLevel.DEEP) -> Case:
    case = Case("case-c-1")
    case.open(
        union="shanxi/taiyuan/bu-1",
        member_ids=["m-1"],
        source="survey",
        on=DAY,
        emergency=False,
        actor="li",
    )
    case.assess(level, CRITERIA, DAY, "li")
    case.enter_register(CRITERIA, DAY, "li")
    return case


def test_a_file_enters_the_register_and_says_so_to_the_other_services() -> None:
    case = _on_register()
    assert case.state.status == "on_register"
    assert case.state.next_review_on == DAY + timedelta(days=CRITERIA.review_after_days)
    told = [e for e in case.pending if isinstance(e, HouseholdEnteredRegister)]
    assert [(e.case_id, e.member_ids, e.level) for e in told] == [
        ("c-1", ["m-1"], HardshipLevel.DEEP)
    ]


def test_a_household_not_in_hardship_cannot_enter() -> None:
    case = Case("case-c-2")
    case.open(union="u", member_ids=["m-2"], source="walk_in", on=DAY, emergency=False, actor="li")
    case.assess(None, CRITERIA, DAY, "li")
    with pytest.raises(InvalidInput):
        case.enter_register(CRITERIA, DAY, "li")


def test_a_review_that_finds_the_household_out_of_hardship_exits_it() -> None:
    case = _on_register()
    case.start_review(DAY + timedelta(days=300), "annual", "li")
    case.complete_review(None, CRITERIA, DAY + timedelta(days=301), "li")
    assert case.state.status == "exited"
    assert any(isinstance(e, HouseholdExitedRegister) for e in case.pending)
    with pytest.raises(Conflict):
        case.start_review(DAY + timedelta(days=302), "again", "li")


def test_relief_above_the_threshold_waits_for_a_second_person() -> None:
    case = _on_register()
    small = case.request_relief(
        relief_id="r-1",
        member_id="m-1",
        amount_fen=CRITERIA.second_approval_above_fen,
        in_kind=False,
        purpose="medical",
        criteria=CRITERIA,
        on=DAY,
        actor="li",
    )
    assert small.approved_by == "li"  # at the threshold: granted at once
    more = case.request_relief(
        relief_id="r-2",
        member_id="m-1",
        amount_fen=1,
        in_kind=False,
        purpose="medical",
        criteria=CRITERIA,
        on=DAY + timedelta(days=1),
        actor="li",
    )
    assert more.approved_by is None  # the month's total is over it: four eyes
    with pytest.raises(Forbidden):
        case.approve_relief("r-2", DAY + timedelta(days=1), "li")
    case.approve_relief("r-2", DAY + timedelta(days=1), "wang")
    granted = [e.relief_id for e in case.pending if isinstance(e, ReliefGranted)]
    assert granted == ["r-1", "r-2"]
    with pytest.raises(InvalidInput):
        case.request_relief(
            relief_id="r-3",
            member_id="m-9",
            amount_fen=100,
            in_kind=False,
            purpose="medical",
            criteria=CRITERIA,
            on=DAY,
            actor="li",
        )
