"""Rules that belong to issuing a benefit (the caps themselves are entitlements' business).

Each benefit has its own details; `check_details` validates them against the reference data
(travel-expense standards per city, prohibited scenic areas) in force on the business date and
returns them normalised, or raises InvalidInput naming the rule.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.errors import InvalidInput, describe_validation_error

REFERENCE = Path(__file__).resolve().parent.parent / "reference"


class Benefit(StrEnum):
    VOUCHER = "voucher"
    HOLIDAY_GIFT = "holiday_gift"
    BIRTHDAY_GIFT = "birthday_gift"
    CHILDBIRTH_GIFT = "childbirth_gift"
    CULTURE_SPORTS = "culture_sports"
    CULTURE_TOURISM_PRODUCT = "culture_tourism_product"
    OUTING = "outing"
    RECUPERATION = "recuperation"
    TRAINING_SUBSIDY = "training_subsidy"
    NEF_INJURY_INSURANCE = "nef_injury_insurance"
    SUMMER_CAMP = "summer_camp"
    HARDSHIP_RELIEF = "hardship_relief"
    CONSUMPTION_ASSISTANCE = "consumption_assistance"


class Details(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VoucherDetails(Details):
    channel: Literal["online", "offline"]


class CostLine(Details):
    category: Literal[
        "transport", "accommodation", "meals", "entrance_tickets", "insurance", "activity_supplies"
    ]
    amount_fen: int = Field(ge=0)


class OutingDetails(Details):
    start_date: date
    end_date: date
    destination_city: str = Field(description="City code, e.g. taiyuan")
    scenic_area: str | None = Field(default=None, description="Code of the scenic area visited")
    cost_lines: list[CostLine] = Field(min_length=1)


class ChildbirthDetails(Details):
    child_id: str


class RecuperationDetails(Details):
    plan_year: int
    start_date: date
    end_date: date
    employer_welfare_fund_fen: int = Field(ge=0, description="Paid from the employer's fund")


class SummerCampDetails(Details):
    child_id: str
    camp: str = Field(max_length=100)


class ReliefDetails(Details):
    relief_id: str
    case_id: str


DETAILS: dict[Benefit, type[Details]] = {
    Benefit.VOUCHER: VoucherDetails,
    Benefit.OUTING: OutingDetails,
    Benefit.CHILDBIRTH_GIFT: ChildbirthDetails,
    Benefit.RECUPERATION: RecuperationDetails,
    Benefit.SUMMER_CAMP: SummerCampDetails,
    Benefit.HARDSHIP_RELIEF: ReliefDetails,
}


class CityStandard(BaseModel):
    accommodation_fen: int
    meals_fen: int


class TravelStandards(BaseModel):
    version: str
    effective_from: date
    source: str
    default: CityStandard
    cities: dict[str, CityStandard]


class ProhibitedAreas(BaseModel):
    version: str
    effective_from: date
    areas: list[dict[str, str]]

    @property
    def codes(self) -> set[str]:
        return {a["code"] for a in self.areas}


class References:
    """Reference tables, versioned like the policy: the version in force on a date."""

    def __init__(self, travel: list[TravelStandards], prohibited: list[ProhibitedAreas]) -> None:
        self.travel = sorted(travel, key=lambda v: v.effective_from)
        self.prohibited = sorted(prohibited, key=lambda v: v.effective_from)

    @classmethod
    def bundled(cls) -> References:
        def load(name: str) -> list[dict[str, Any]]:
            data = yaml.safe_load((REFERENCE / name).read_text(encoding="utf-8"))
            return list(data["versions"])

        return cls(
            [TravelStandards.model_validate(v) for v in load("travel-standards.yaml")],
            [ProhibitedAreas.model_validate(v) for v in load("prohibited-areas.yaml")],
        )

    def travel_on(self, day: date) -> TravelStandards:
        found = [v for v in self.travel if v.effective_from <= day]
        if not found:
            raise InvalidInput(f"no travel-expense standard for {day}", field="business_date")
        return found[-1]

    def prohibited_on(self, day: date) -> ProhibitedAreas | None:
        found = [v for v in self.prohibited if v.effective_from <= day]
        return found[-1] if found else None


def check_details(
    benefit: Benefit, details: dict[str, Any], amount_fen: int, refs: References
) -> dict[str, Any]:
    model = DETAILS.get(benefit)
    if model is None:
        if details:
            raise InvalidInput(f"{benefit} takes no details", field="details")
        return {}
    try:
        parsed = model.model_validate(details)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc), field="details") from None
    if isinstance(parsed, OutingDetails):
        _check_outing(parsed, amount_fen, refs)
    if isinstance(parsed, RecuperationDetails) and parsed.end_date < parsed.start_date:
        raise InvalidInput("the stay ends before it starts", field="details.end_date")
    return parsed.model_dump(mode="json")


def _check_outing(outing: OutingDetails, amount_fen: int, refs: References) -> None:
    """Clause 4: at most 2 days and 1 night; allowed cost categories only; accommodation and
    meals within the destination's travel-expense standard; no prohibited scenic area."""
    days = (outing.end_date - outing.start_date).days + 1
    if days < 1:
        raise InvalidInput("the outing ends before it starts", field="details.end_date")
    if days > 2:
        raise InvalidInput(
            f"an outing lasts at most 2 days and 1 night (this one {days} days)",
            field="details.end_date",
            rule="outing.duration",
            clause="4.outing",
        )
    prohibited = refs.prohibited_on(outing.start_date)
    if prohibited and outing.scenic_area in prohibited.codes:
        raise InvalidInput(
            "the destination is on the list of prohibited scenic areas",
            field="details.scenic_area",
            rule="outing.prohibited-area",
            clause="4.outing",
        )
    standards = refs.travel_on(outing.start_date)
    city = standards.cities.get(outing.destination_city.lower(), standards.default)
    nights = days - 1
    totals: dict[str, int] = {}
    for line in outing.cost_lines:
        totals[line.category] = totals.get(line.category, 0) + line.amount_fen
    limits = {"accommodation": nights * city.accommodation_fen, "meals": days * city.meals_fen}
    for category, limit in limits.items():
        if totals.get(category, 0) > limit:
            raise InvalidInput(
                f"{category} of {totals[category]} fen is above the {standards.version} "
                f"standard for {outing.destination_city} ({limit} fen for {days} day(s))",
                field="details.cost_lines",
                rule="outing.travel-standard",
                clause="4.outing",
            )
    if sum(totals.values()) != amount_fen:
        raise InvalidInput("amount_fen must equal the sum of the cost lines", field="amount_fen")
