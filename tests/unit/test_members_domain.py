"""The member registry's rules without I/O: ID numbers, the org tree, the member aggregate."""

from __future__ import annotations

from datetime import date

import pytest

from services.members.contracts import (
    BirthdayReached,
    EmploymentForm,
    EndReason,
    MemberRegistered,
    birthday_in,
)
from services.members.domain.identity import (
    Sex,
    compose_id_number,
    mask_id_number,
    parse_id_number,
    synthetic_id_number,
)
from services.members.domain.model import Member
from services.members.domain.org import OrgKind, OrgUnit, check_tree
from shared.errors import Conflict, InvalidInput

# The standard's own worked example (GB 11643-1999, appendix): check character X.
EXAMPLE = "11010519491231002X"


def test_the_standards_example_is_valid_and_yields_birth_date_and_sex() -> None:
    number = parse_id_number(EXAMPLE.lower())
    assert number.value == EXAMPLE
    assert number.birth_date == date(1949, 12, 31)
    assert number.sex is Sex.FEMALE


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("110105194912310021", "gb11643.check-digit"),
        ("11010519491231002", "gb11643.length"),
        ("1101051949123100211", "gb11643.length"),
        ("11010519491331002X", "gb11643.birth-date"),
        ("11010519490230002X", "gb11643.birth-date"),
        ("1101051949123100AX", "gb11643.characters"),
        ("010105194912310028", "gb11643.region"),
    ],
)
def test_invalid_numbers_name_the_rule_and_never_echo_the_number(raw: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_id_number(raw)
    assert caught.value.extensions == {"field": "id_number", "rule": rule}
    assert raw not in caught.value.detail and raw[:17] not in caught.value.detail


def test_a_birth_date_after_today_is_refused() -> None:
    number = compose_id_number("140105", date(2030, 1, 1), 11)
    with pytest.raises(InvalidInput):
        parse_id_number(number, today=date(2026, 1, 1))


def test_composed_numbers_are_valid_distinct_and_masked() -> None:
    numbers = {synthetic_id_number(n) for n in range(5000)}
    assert len(numbers) == 5000
    for value in list(numbers)[:200]:
        assert parse_id_number(value).value == value
    assert parse_id_number(compose_id_number("140105", date(1990, 3, 7), 13)).sex is Sex.MALE
    assert mask_id_number("140105199003070134") == "1401**********0134"


def test_29_february_is_kept_on_28_february_in_common_years() -> None:
    assert birthday_in(date(1992, 2, 29), 2027) == date(2027, 2, 28)
    assert birthday_in(date(1992, 2, 29), 2028) == date(2028, 2, 29)


def _member(born: date = date(1990, 3, 7), joined: date = date(2015, 7, 1)) -> Member:
    member = Member("member-m-1")
    member.register(
        MemberRegistered(
            member_id="m-1",
            base_union="shanxi/x/bu-1",
            name="李",
            birth_date=born,
            join_date=joined,
        )
    )
    return member


def test_a_birthday_is_recorded_once_a_year_and_only_once_it_has_come() -> None:
    member = _member()
    assert not member.reach_birthday(2026, date(2026, 3, 6))
    assert member.reach_birthday(2026, date(2026, 3, 7))
    assert not member.reach_birthday(2026, date(2026, 12, 31))
    assert member.reach_birthday(2027, date(2027, 4, 1))
    assert [e.year for e in member.pending if isinstance(e, BirthdayReached)] == [2026, 2027]


def test_no_birthday_before_joining_or_after_the_membership_ended() -> None:
    joined_later = _member(joined=date(2026, 5, 1))
    assert not joined_later.reach_birthday(2026, date(2026, 6, 1))
    assert joined_later.reach_birthday(2027, date(2027, 3, 7))
    ended = _member()
    ended.end(EndReason.LEFT, date(2026, 1, 31))
    assert not ended.reach_birthday(2026, date(2026, 3, 7))


def test_one_child_is_recorded_once_and_a_deceased_member_cannot_rejoin() -> None:
    member = _member()
    kwargs = {"birth_date": date(2026, 1, 2), "birth_order": 2, "within_policy": True}
    member.record_birth(child_id="c-1", other_parent=None, today=date(2026, 2, 1), **kwargs)
    member.record_birth(child_id="c-2", other_parent=None, today=date(2026, 2, 1), **kwargs)
    assert list(member.children) == ["c-1"]
    member.end(EndReason.DECEASED, date(2026, 3, 1))
    with pytest.raises(Conflict):
        member.rejoin("shanxi/x/bu-1", date(2026, 4, 1))


def test_new_employment_form_needs_one_of_the_new_forms() -> None:
    member = _member()
    with pytest.raises(InvalidInput):
        member.register_new_employment_form(EmploymentForm.STANDARD, date(2026, 1, 1), None)
    with pytest.raises(Conflict):
        member.end_new_employment_form(date(2026, 1, 1))
    member.register_new_employment_form(EmploymentForm.COURIER, date(2026, 1, 1), "顺丰")
    member.end_new_employment_form(date(2026, 6, 1))
    assert member.employment_form is EmploymentForm.STANDARD


def test_the_org_tree_keeps_kinds_at_their_levels() -> None:
    tree = [
        OrgUnit(path="shanxi", name="省总", kind=OrgKind.PROVINCE),
        OrgUnit(path="shanxi/taiyuan", name="市总", kind=OrgKind.CITY),
        OrgUnit(path="shanxi/taiyuan/xd", name="区总", kind=OrgKind.COUNTY),
        OrgUnit(path="shanxi/taiyuan/xd/bu-1", name="基层", kind=OrgKind.BASE),
    ]
    check_tree(tree, {})
    tree_kinds = {u.path: u.kind for u in tree} | {"shanxi/taiyuan/bu-1": OrgKind.BASE}
    with pytest.raises(InvalidInput, match="parent"):
        check_tree([OrgUnit(path="shanxi/datong/bu-2", name="x", kind=OrgKind.BASE)], {})
    with pytest.raises(InvalidInput, match="level"):
        check_tree([OrgUnit(path="shanxi/taiyuan/xd/z", name="x", kind=OrgKind.COUNTY)], tree_kinds)
    with pytest.raises(InvalidInput, match="below"):
        check_tree(
            [OrgUnit(path="shanxi/taiyuan/bu-1/team", name="x", kind=OrgKind.BASE)],
            tree_kinds,
        )
