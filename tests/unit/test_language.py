"""Which language a caller gets, and how a Chinese detail keeps the English beside it."""

from __future__ import annotations

import pytest

from shared.http.language import detail, preferred, title


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "zh"),
        ("", "zh"),
        ("zh-CN,zh;q=0.9", "zh"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh;q=0.8, en;q=0.9", "en"),
        ("en;q=0.5, zh-TW", "zh"),
        ("fr-FR, de", "zh"),  # neither offered: Chinese, the users' language
        ("garbage;;q=x", "zh"),
    ],
)
def test_chinese_unless_english_is_preferred(header: str | None, lang: str) -> None:
    assert preferred(header) == lang


def test_a_detail_is_chinese_first_with_its_english_beside_it() -> None:
    english = "the business date 2099-01-01 is after today"
    assert detail(english, "invalid-input", "period.future", "zh") == (
        f"业务日期不能晚于今天（{english}）"
    )
    assert detail(english, "invalid-input", "period.future", "en") == english
    assert (
        detail(english, "not-found", None, "zh") == f"未找到，或不在您所在的组织范围内（{english}）"
    )
    reason = "节日慰问品超过年度上限 2,000.00 元"  # written in Chinese already: kept as it is
    assert detail(reason, "rule-violated", "cap.exceeded", "zh") == reason
    assert title("not-found", "Not found", "en") == "Not found"
    assert title("some-new-code", "Something", "zh") == "Something"
