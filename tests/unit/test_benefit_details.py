"""What issuing a benefit checks against reference data, without a database: outings against
the prohibited list and the destination's travel-expense standard (clause 4)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.disbursements.domain.benefits import References, check_details
from services.entitlements.contracts import Benefit
from shared.errors import InvalidInput

REFS = References.bundled()
ON = date(2026, 4, 10)
TAIYUAN = REFS.travel_on(date(2026, 4, 10)).cities["taiyuan"]


def outing(**overrides: Any) -> dict[str, Any]:
    two_days = {
        "start_date": "2026-04-10",
        "end_date": "2026-04-11",
        "destination_city": "taiyuan",
        "cost_lines": [
            {"category": "transport", "amount_fen": 10000},
            {"category": "accommodation", "amount_fen": TAIYUAN.accommodation_fen},
            {"category": "meals", "amount_fen": 2 * TAIYUAN.meals_fen},
        ],
    }
    return two_days | overrides


def total(details: dict[str, Any]) -> int:
    return sum(line["amount_fen"] for line in details["cost_lines"])


def test_an_outing_within_the_standard_passes_normalised() -> None:
    details = outing()
    checked = check_details(Benefit.OUTING, details, total(details), REFS, ON)
    assert checked["destination_city"] == "taiyuan" and len(checked["cost_lines"]) == 3


@pytest.mark.parametrize("place", ["五台山", "wutaishan", "少林寺"])
def test_a_prohibited_scenic_area_is_refused_by_name_alias_or_code(place: str) -> None:
    details = outing(scenic_area=place)
    with pytest.raises(InvalidInput) as refused:
        check_details(Benefit.OUTING, details, total(details), REFS, ON)
    assert refused.value.extensions["rule"] == "outing.prohibited-area"


def test_one_night_more_than_the_standard_allows_is_refused_with_what_remains() -> None:
    details = outing()
    details["cost_lines"][1]["amount_fen"] += 1
    with pytest.raises(InvalidInput) as refused:
        check_details(Benefit.OUTING, details, total(details), REFS, ON)
    assert refused.value.extensions["rule"] == "outing.travel-standard"
    assert refused.value.extensions["remaining_fen"] == -1


def test_an_unknown_city_is_refused_with_the_known_ones() -> None:
    details = outing(destination_city="atlantis")
    with pytest.raises(InvalidInput) as refused:
        check_details(Benefit.OUTING, details, total(details), REFS, ON)
    assert "taiyuan" in refused.value.extensions["known_cities"]


def test_the_amount_is_the_sum_of_the_cost_lines_and_other_benefits_take_no_details() -> None:
    details = outing()
    with pytest.raises(InvalidInput):
        check_details(Benefit.OUTING, details, total(details) + 1, REFS, ON)
    with pytest.raises(InvalidInput):
        check_details(Benefit.HOLIDAY_GIFT, {"anything": 1}, 100, REFS, ON)
    assert check_details(Benefit.HOLIDAY_GIFT, {}, 100, REFS, ON) == {}


@pytest.mark.parametrize(
    ("field", "day"), [("start_date", "2025-06-01"), ("end_date", "2027-01-01")]
)
def test_a_trip_dated_outside_the_business_dates_year_is_refused(field: str, day: str) -> None:
    """A trip in a closed or a future year was once issued and counted in this year's ledger,
    so a year could hold more than its four outings."""
    details = outing(start_date="2026-12-31", end_date="2026-12-31") | {field: day}
    if field == "start_date":
        details["end_date"] = "2025-06-01"  # a one-day trip, all of it in 2025
    with pytest.raises(InvalidInput) as refused:
        check_details(Benefit.OUTING, details, total(details), REFS, date(2026, 6, 1))
    assert refused.value.extensions["rule"] == "details.date-outside-year"
    assert refused.value.extensions["field"] == f"details.{field}"


@pytest.mark.parametrize(
    ("typed", "area"),
    [
        ("五臺山", "wutaishan"),  # traditional characters
        ("Wutai Mountain", "wutaishan"),
        ("ＷＵＴＡＩ　ＳＨＡＮ", "wutaishan"),  # full-width, with a space
        ("山西省五台山风景名胜区", "wutaishan"),
        ("张家界国家森林公园", "wulingyuan"),
        ("太原高尔夫俱乐部", "private-club-golf"),  # a kind of venue: wherever its word appears
    ],
)
def test_a_prohibited_area_is_found_however_it_is_typed(typed: str, area: str) -> None:
    found = REFS.prohibited_on(ON)
    assert found is not None
    match = found.match(typed)
    assert match is not None and match[0].code == area


@pytest.mark.parametrize("place", ["太湖石博物馆", "黄山路公园", "芦芽山"])
def test_a_place_that_only_contains_a_banned_name_is_not_refused(place: str) -> None:
    found = REFS.prohibited_on(ON)
    assert found is not None and found.match(place) is None


@pytest.mark.parametrize(
    ("typed", "code"),
    [("太原", "taiyuan"), ("太原市", "taiyuan"), ("阳泉", "yangquan"), ("晉城", "jincheng"),
     ("朔州", "shuozhou"), ("吕梁", "lvliang"), ("Taiyuan", "taiyuan")],
)  # fmt: skip
def test_every_city_of_shanxi_has_a_standard_in_chinese_or_in_code(typed: str, code: str) -> None:
    day_trip = [{"category": "transport", "amount_fen": 10000}]
    details = outing(destination_city=typed, end_date="2026-04-10", cost_lines=day_trip)
    checked = check_details(Benefit.OUTING, details, total(details), REFS, ON)
    assert checked["destination_city"] == code
    assert len(REFS.travel_on(ON).cities) >= 11  # the eleven prefecture-level cities
