from __future__ import annotations

from datetime import date

import pytest

from services.entitlements.domain.policy import PolicyVersion, load_bundled_policies
from shared.money import format_yuan, yuan


def test_bundled_policy_carries_the_notice_caps_with_clauses() -> None:
    policy = load_bundled_policies().in_force(date(2025, 6, 20))
    assert policy.version == "shanxi-2025-26"
    rules = policy.member_benefits
    assert (rules["voucher"].cap_fen, rules["voucher"].max_count) == (yuan(300), 1)
    assert rules["holiday_gift"].cap_fen == yuan(2200)
    assert rules["birthday_gift"].cap_fen == yuan(500)
    assert rules["childbirth_gift"].per_child_fen == {1: yuan(1500), 2: yuan(2000), 3: yuan(2500)}
    assert rules["culture_sports"].cap_fen == yuan(500)
    assert rules["culture_tourism_product"].cap_fen == yuan(300)
    assert rules["outing"].max_count == 4
    assert all(rule.clause for rule in rules.values())


def test_nothing_governs_before_the_notice_and_newer_versions_take_over() -> None:
    book = load_bundled_policies()
    with pytest.raises(LookupError):
        book.in_force(date(2025, 6, 19))
    current = book.in_force(date(2026, 1, 1))
    newer = PolicyVersion.model_validate(
        {**current.model_dump(), "version": "shanxi-2027", "effective_from": date(2027, 1, 1)}
    )
    book = book.with_version(newer)
    assert book.in_force(date(2026, 12, 31)).version == "shanxi-2025-26"
    assert book.in_force(date(2027, 1, 1)).version == "shanxi-2027"


def test_money_is_exact() -> None:
    assert yuan("300") == 30000
    assert yuan("0.01") == 1
    with pytest.raises(ValueError):
        yuan("0.001")
    assert format_yuan(220000) == "2200.00"
