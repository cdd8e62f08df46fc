"""Entitlements' view of a member and a union's own standards, without I/O: facts are dated by
when they took effect, never by when they arrived; a union's setting never passes the
province's ceiling and counts from its own date."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.entitlements.domain.policy import load_bundled_policies
from services.entitlements.domain.profile import MemberProfile
from services.entitlements.domain.standards import UnionStandards, union_limit
from services.members.contracts import (
    BirthdayReached,
    EmploymentForm,
    EndReason,
    MemberRegistered,
    MemberRejoined,
    MembershipEnded,
    MemberTransferred,
    NewEmploymentFormRegistered,
)
from shared.errors import Forbidden, InvalidInput

BASE = "shanxi/taiyuan/xiaodian/bu-0001"
OTHER = "shanxi/taiyuan/xiaodian/bu-0002"
POLICY = load_bundled_policies().in_force(date(2026, 6, 1))


def registered() -> MemberProfile:
    profile = MemberProfile("profile-m-1")
    profile.note(
        MemberRegistered(
            member_id="m-1",
            base_union=BASE,
            name="王某",
            birth_date=date(1990, 3, 7),
            join_date=date(2026, 2, 1),
        ),
        "e-1",
    )
    return profile


def test_standing_follows_effective_dates_whatever_the_order_of_arrival() -> None:
    profile = registered()
    # The transfer effective in May arrives after the rider registration effective in July.
    profile.note(
        NewEmploymentFormRegistered(
            member_id="m-1",
            employment_form=EmploymentForm.FOOD_DELIVERY_RIDER,
            registered_on=date(2026, 7, 1),
        ),
        "e-2",
    )
    profile.note(
        MemberTransferred(
            member_id="m-1", from_union=BASE, to_union=OTHER, effective_date=date(2026, 5, 1)
        ),
        "e-3",
    )
    assert not profile.standing_on(date(2026, 1, 31)).active  # before joining
    april, june, august = (profile.standing_on(date(2026, m, 15)) for m in (4, 6, 8))
    assert (april.base_union, april.employment_form) == (BASE, "standard")
    assert (june.base_union, june.employment_form) == (OTHER, "standard")
    assert (august.base_union, august.employment_form) == (OTHER, "food_delivery_rider")
    assert august.groups == {"new_employment_form"}


def test_an_end_and_a_rejoining_are_dated_and_hardship_counts_from_its_day() -> None:
    profile = registered()
    profile.note(
        MembershipEnded(member_id="m-1", reason=EndReason.LEFT, effective_date=date(2026, 5, 1)),
        "e-2",
    )
    profile.note(
        MemberRejoined(member_id="m-1", base_union=OTHER, join_date=date(2026, 9, 1)), "e-3"
    )
    profile.note_hardship(True, "h-1", date(2026, 10, 1))
    assert profile.active_on(date(2026, 4, 30))
    assert not profile.active_on(date(2026, 6, 1))
    assert profile.standing_on(date(2026, 9, 1)).base_union == OTHER
    assert profile.standing_on(date(2026, 9, 30)).groups == frozenset()
    assert profile.standing_on(date(2026, 10, 1)).groups == {"hardship"}


def test_a_fact_already_known_is_not_recorded_again() -> None:
    profile = registered()
    birthday = BirthdayReached(
        member_id="m-1", year=2026, birthday=date(2026, 3, 7), noticed_on=date(2026, 3, 7)
    )
    profile.note(birthday, "e-2")
    profile.note(birthday, "e-2-again")
    profile.note_hardship(False, "h-1", date(2026, 4, 1))  # not on the register: no change
    assert [type(e).__name__ for e in profile.pending] == ["ProfileOpened", "BirthdayNoted"]


def test_a_union_standard_counts_from_its_own_date_and_the_nearest_union_wins() -> None:
    county = UnionStandards("standards-shanxi/taiyuan/xiaodian")
    base = UnionStandards(f"standards-{BASE}")
    for union, fen, start in ((county, 20000, 1), (base, 15000, 4)):
        union.set(
            benefit="voucher",
            effective_from=date(2026, start, 1),
            values={"amount_fen": fen},
            policy=POLICY,
            set_by="finance",
            set_by_org=union.union,
            today=date(2026, start, 1),
        )
    nearest_first = [base, county]
    march = union_limit(nearest_first, "voucher", date(2026, 3, 31))
    april = union_limit(nearest_first, "voucher", date(2026, 4, 1))
    assert march is not None and march.amount_fen == 20000
    assert april is not None and april.amount_fen == 15000
    assert union_limit(nearest_first, "voucher", date(2025, 12, 31)) is None


@pytest.mark.parametrize(
    ("benefit", "values", "rule"),
    [
        ("voucher", {"amount_fen": 30001}, "policy.ceiling"),
        ("voucher", {"standard_fen": 100}, "policy.not-settable"),
        ("holiday_gift", {"amount_fen": 100}, "policy.not-settable"),
        ("training_subsidy", {"standard_fen": 500_001}, "policy.ceiling"),
        ("training_subsidy", {"yearly_total_fen": 10**11}, "policy.ceiling"),
        ("voucher", {"expiry_days": 367}, "policy.ceiling"),
    ],
)
def test_a_union_cannot_pass_the_ceiling_or_set_what_the_notice_does_not_let_it(
    benefit: str, values: dict[str, int], rule: str
) -> None:
    standards = UnionStandards(f"standards-{BASE}")
    with pytest.raises(InvalidInput) as refused:
        standards.set(
            benefit=benefit,
            effective_from=date(2026, 1, 1),
            values=values,
            policy=POLICY,
            set_by="finance",
            set_by_org=BASE,
            today=date(2026, 1, 1),
        )
    assert refused.value.extensions["rule"] == rule
    assert standards.pending == []


def test_a_standard_is_never_back_dated_and_a_base_unions_own_is_its_own() -> None:
    standards = UnionStandards(f"standards-{BASE}")
    common: dict[str, Any] = {"policy": POLICY, "set_by": "finance", "today": date(2026, 12, 3)}
    with pytest.raises(InvalidInput) as late:
        standards.set(
            benefit="voucher",
            effective_from=date(2026, 1, 1),
            values={"amount_fen": 100},
            set_by_org=BASE,
            **common,
        )
    assert late.value.extensions["rule"] == "standard.backdated"
    with pytest.raises(Forbidden) as county:
        standards.set(
            benefit="training_subsidy",
            effective_from=date(2026, 12, 3),
            values={"standard_fen": 100},
            set_by_org="shanxi/taiyuan/xiaodian",
            **common,
        )
    assert county.value.extensions["rule"] == "standard.owner"
    assert standards.pending == []


def test_a_correction_reaches_back_with_its_reason_and_within_the_open_books() -> None:
    """A past standard corrected (with its reason) governs the days it names from then on; the
    decisions made before it keep what they read (their replay reads the stream in order)."""
    standards = UnionStandards(f"standards-{BASE}")
    common: dict[str, Any] = {"policy": POLICY, "set_by": "finance", "set_by_org": BASE}
    standards.set(
        benefit="voucher",
        effective_from=date(2026, 2, 1),
        values={"amount_fen": 20000},
        today=date(2026, 2, 1),
        **common,
    )
    april = standards.in_force("voucher", date(2026, 4, 1))
    assert april is not None and april.amount_fen == 20000
    corrected = standards.set(
        benefit="voucher",
        effective_from=date(2026, 3, 1),
        values={"amount_fen": 15000},
        today=date(2026, 6, 1),
        correction_reason="代表大会决议自 3 月 1 日起执行",
        **common,
    )
    assert (corrected.set_on, corrected.correction_reason) == (
        date(2026, 6, 1),
        "代表大会决议自 3 月 1 日起执行",
    )
    april = standards.in_force("voucher", date(2026, 4, 1))
    assert april is not None and april.amount_fen == 15000
    february = standards.in_force("voucher", date(2026, 2, 15))
    assert february is not None and february.amount_fen == 20000  # before the correction's date
    with pytest.raises(InvalidInput) as too_old:
        standards.set(
            benefit="voucher",
            effective_from=date(2024, 12, 31),
            values={"amount_fen": 100},
            today=date(2026, 6, 1),
            correction_reason="太早",
            **common,
        )
    assert too_old.value.extensions["rule"] == "standard.correction-too-old"
