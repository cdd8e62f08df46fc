"""Rules that belong to issuing a benefit (the caps themselves are entitlements' business).

Each benefit has its own details; `check_details` validates them against the reference data
(travel-expense standards per city, prohibited scenic areas) in force on the business date and
returns them normalised, or raises InvalidInput naming the rule.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.entitlements.contracts import Benefit
from shared.errors import InvalidInput, describe_validation_error
from shared.money import MAX_AMOUNT_FEN, yuan_text

REFERENCE = Path(__file__).resolve().parent.parent / "reference"


class Details(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VoucherDetails(Details):
    channel: Literal["online", "offline"]


class CostLine(Details):
    category: str = Field(
        max_length=40,
        description="transport, accommodation, meals, entrance_tickets, insurance or "
        "activity_supplies (the policy's list decides)",
    )
    amount_fen: int = Field(ge=0, le=MAX_AMOUNT_FEN)


class OutingDetails(Details):
    start_date: date
    end_date: date
    destination_city: str = Field(max_length=40, description="City code, e.g. taiyuan")
    scenic_area: str | None = Field(
        default=None, max_length=100, description="Name or code of the scenic area visited"
    )
    cost_lines: list[CostLine] = Field(min_length=1, max_length=50)


class ChildbirthDetails(Details):
    child_id: str = Field(max_length=40)


class RecuperationDetails(Details):
    plan_year: int = Field(ge=2000, le=2100)
    start_date: date
    end_date: date
    employer_welfare_fund_fen: int = Field(
        ge=0, le=MAX_AMOUNT_FEN, description="Paid from the employer's fund"
    )


class SummerCampDetails(Details):
    child_id: str = Field(max_length=40)
    camp: str = Field(max_length=100)


class ReliefDetails(Details):
    relief_id: str = Field(max_length=80)
    case_id: str = Field(max_length=80)


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
    cities: dict[str, CityStandard]


class ProhibitedArea(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str
    province: str | None = None
    aliases: list[str] = Field(default_factory=list)


class ProhibitedList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    areas: list[ProhibitedArea]


class ProhibitedAreas(BaseModel):
    version: str
    effective_from: date
    lists: list[ProhibitedList]

    def match(self, place: str) -> tuple[ProhibitedArea, str] | None:
        """The listed area a destination names (by code, name or alias), with its source."""
        text = "".join(place.split()).lower()
        for listed in self.lists:
            for area in listed.areas:
                names = [area.name, *area.aliases, *area.name.split("—")]
                if text == area.code or any(n and n.lower() in text for n in names):
                    return area, listed.source
        return None


class References:
    """Reference tables, versioned like the policy: the version in force on a date. `clause`
    is the clause of the notice each table serves."""

    def __init__(
        self,
        travel: list[TravelStandards],
        prohibited: list[ProhibitedAreas],
        clauses: dict[str, str],
    ) -> None:
        self.travel = sorted(travel, key=lambda v: v.effective_from)
        self.prohibited = sorted(prohibited, key=lambda v: v.effective_from)
        self.clauses = clauses

    @classmethod
    def bundled(cls) -> References:
        def load(name: str) -> dict[str, Any]:
            return dict(yaml.safe_load((REFERENCE / name).read_text(encoding="utf-8")))

        travel, prohibited = load("travel-standards.yaml"), load("prohibited-areas.yaml")
        plans = load("recuperation-plans.yaml")
        return cls(
            [TravelStandards.model_validate(v) for v in travel["versions"]],
            [ProhibitedAreas.model_validate(v) for v in prohibited["versions"]],
            {
                "travel": str(travel["clause"]),
                "prohibited": str(prohibited["clause"]),
                "recuperation": str(plans["clause"]),
            },
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
    """Clause 4, the parts that need reference data: no prohibited scenic area; accommodation
    and meals within the destination's travel-expense standard. (How long an outing may last
    and what it may pay for are the policy's, and the decision checks them.)"""
    days = (outing.end_date - outing.start_date).days + 1
    if days < 1:
        raise InvalidInput("the outing ends before it starts", field="details.end_date")
    _check_destination(outing, refs)
    standards = refs.travel_on(outing.start_date)
    city = standards.cities.get(outing.destination_city.lower())
    if city is None:
        raise InvalidInput(
            f"目的地城市不在差旅费标准 {standards.version} 中；"
            f"已知城市：{'、'.join(standards.cities)}",
            field="details.destination_city",
            rule="outing.unknown-city",
            clause=refs.clauses["travel"],
            reference_version=standards.version,
            known_cities=sorted(standards.cities),
        )
    nights = days - 1
    totals: dict[str, int] = {}
    for line in outing.cost_lines:
        totals[line.category] = totals.get(line.category, 0) + line.amount_fen
    limits = {"accommodation": nights * city.accommodation_fen, "meals": days * city.meals_fen}
    for category, limit in limits.items():
        if totals.get(category, 0) > limit:
            raise InvalidInput(
                f"{category} {yuan_text(totals[category])}超过 {standards.version} 标准"
                f"（{days} 天共 {yuan_text(limit)}）",
                field="details.cost_lines",
                rule="outing.travel-standard",
                clause=refs.clauses["travel"],
                reference_version=standards.version,
                limit_fen=limit,
                remaining_fen=limit - totals[category],
            )
    if sum(totals.values()) != amount_fen:
        raise InvalidInput("amount_fen must equal the sum of the cost lines", field="amount_fen")


def _check_destination(outing: OutingDetails, refs: References) -> None:
    prohibited = refs.prohibited_on(outing.start_date)
    if prohibited is None:
        return
    for place in (outing.scenic_area, outing.destination_city):
        found = prohibited.match(place) if place else None
        if found is not None:
            area, source = found
            raise InvalidInput(
                f"目的地属于禁止开展春秋游的场所（{area.name}）",
                field="details.scenic_area",
                rule="outing.prohibited-area",
                clause=refs.clauses["prohibited"],
                reference_version=prohibited.version,
                area_code=area.code,
                source=source,
            )
