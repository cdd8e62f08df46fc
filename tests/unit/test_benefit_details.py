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
    checked = check_details(Benefit.OUTING, details, total(details), REFS)
    assert checked["destination_city"] == "taiyuan" and len(checked["cost_lines"]) == 3


@pytest.mark.parametrize("place", ["五台山", "wutaishan", "少林寺"])
def test_a_prohibited_scenic_area_is_refused_by_name_alias_or_code(place: str) -> None:
    details = outing(scenic_area=place)
    with pytest.raises(InvalidInput) as refused:
        check_details(Benefit.OUTING, details, total(details), REFS)
    assert refused.value.extensions["rule"] == "outing.prohibited-area"


def test_one_night_more_than_the_standard_allows_is_refused_with_what_remains() -> None:
    details = outing()
    details["cost_lines"][1]["amount_fen"] += 1
    with pytest.raises(InvalidInput) as refused:
        check_details(Benefit.OUTING, details, total(details), REFS)
    assert refused.value.extensions["rule"] == "outing.travel-standard"
    assert refused.value.extensions["remaining_fen"] == -1


def test_an_unknown_city_is_refused_with_the_known_ones() -> None:
    details = outing(destination_city="atlantis")
    with pytest.raises(InvalidInput) as refused:
        check_details(Benefit.OUTING, details, total(details), REFS)
    assert "taiyuan" in refused.value.extensions["known_cities"]


def test_the_amount_is_the_sum_of_the_cost_lines_and_other_benefits_take_no_details() -> None:
    details = outing()
    with pytest.raises(InvalidInput):
        check_details(Benefit.OUTING, details, total(details) + 1, REFS)
    with pytest.raises(InvalidInput):
        check_details(Benefit.HOLIDAY_GIFT, {"anything": 1}, 100, REFS)
    assert check_details(Benefit.HOLIDAY_GIFT, {}, 100, REFS) == {}
