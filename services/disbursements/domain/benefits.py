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

from services.disbursements.domain.places import core_names, normalise
from services.entitlements.contracts import Benefit
from shared.errors import InvalidInput, describe_validation_error
from shared.money import MAX_AMOUNT_FEN, yuan_en, yuan_text

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
    amount_fen: int = Field(ge=0, le=MAX_AMOUNT_FEN, strict=True)


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
    plan_year: int = Field(ge=2000, le=2100, strict=True)
    start_date: date
    end_date: date
    employer_welfare_fund_fen: int = Field(
        ge=0, le=MAX_AMOUNT_FEN, strict=True, description="Paid from the employer's fund"
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
    name: str
    aliases: list[str] = Field(default_factory=list)
    accommodation_fen: int
    meals_fen: int


class TravelStandards(BaseModel):
    version: str
    effective_from: date
    source: str
    cities: dict[str, CityStandard]

    def city(self, text: str) -> tuple[str, CityStandard] | None:
        """The city a destination names: its code, its Chinese name (with or without 市) or an
        alias, in any of the spellings `places.normalise` folds together."""
        wanted = normalise(text).removesuffix("市")
        for code, city in self.cities.items():
            if wanted in {normalise(n) for n in (code, city.name, *city.aliases)}:
                return code, city
        return None


class ProhibitedArea(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str
    province: str | None = None
    aliases: list[str] = Field(default_factory=list)
    # whole: the destination names this area (around it only generic words: a province before,
    # "风景名胜区" after); contains: a kind of venue, refused wherever its word appears
    match: Literal["whole", "contains"] = "whole"

    def named_by(self, place: str) -> bool:
        names = {normalise(n) for part in (self.name, *self.aliases) for n in part.split("—")}
        names.add(normalise(self.code))
        if self.match == "contains":
            text = normalise(place)
            return any(n and n in text for n in names)
        heads = self.province.split("/") if self.province else []
        cores = {c for n in names for c in core_names(n, heads)}
        return bool(core_names(place, heads) & cores)


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
        for listed in self.lists:
            for area in listed.areas:
                if area.named_by(place):
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
    benefit: Benefit,
    details: dict[str, Any],
    amount_fen: int,
    refs: References,
    business_date: date,
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
    _dates_in_year(parsed, business_date)
    if isinstance(parsed, OutingDetails):
        parsed = _check_outing(parsed, amount_fen, refs)
    if isinstance(parsed, RecuperationDetails) and parsed.end_date < parsed.start_date:
        raise InvalidInput("the stay ends before it starts", field="details.end_date")
    return parsed.model_dump(mode="json")


# Dates inside a benefit's details: each must lie in the business date's year, the year whose
# ledger the benefit is counted in (a trip dated in a closed or a future year would otherwise be
# counted in this one). Named here so that every reader checks the same fields.
DATED_FIELDS: dict[type[Details], tuple[str, ...]] = {
    OutingDetails: ("start_date", "end_date"),
    RecuperationDetails: ("start_date", "end_date"),
}


def _dates_in_year(details: Details, business_date: date) -> None:
    year = business_date.year
    for name in DATED_FIELDS.get(type(details), ()):
        day: date = getattr(details, name)
        if day.year != year:
            raise InvalidInput(
                f"{name} {day} 不在业务日期 {business_date} 所在年度（{year} 年）内"
                f"（every date in the details must lie in {year}）",
                field=f"details.{name}",
                rule="details.date-outside-year",
            )


def _check_outing(outing: OutingDetails, amount_fen: int, refs: References) -> OutingDetails:
    """Clause 4, the parts that need reference data: no prohibited scenic area; accommodation
    and meals within the destination's travel-expense standard. (How long an outing may last
    and what it may pay for are the policy's, and the decision checks them.)"""
    days = (outing.end_date - outing.start_date).days + 1
    if days < 1:
        raise InvalidInput("the outing ends before it starts", field="details.end_date")
    _check_destination(outing, refs)
    standards = refs.travel_on(outing.start_date)
    found = standards.city(outing.destination_city)
    if found is None:
        known = "、".join(f"{c.name}（{code}）" for code, c in standards.cities.items())
        raise InvalidInput(
            f"目的地城市不在差旅费标准 {standards.version} 中；已知城市：{known}",
            field="details.destination_city",
            rule="outing.unknown-city",
            detail_en=f"the destination city is not in the travel-expense standard "
            f"{standards.version}; known cities: {', '.join(sorted(standards.cities))}",
            clause=refs.clauses["travel"],
            reference_version=standards.version,
            known_cities=sorted(standards.cities),
        )
    _, city = found
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
                detail_en=f"{category} of {yuan_en(totals[category])} is more than the "
                f"{standards.version} standard allows for {days} days, {yuan_en(limit)}",
                clause=refs.clauses["travel"],
                reference_version=standards.version,
                limit_fen=limit,
                remaining_fen=limit - totals[category],
            )
    if sum(totals.values()) != amount_fen:
        raise InvalidInput("amount_fen must equal the sum of the cost lines", field="amount_fen")
    return outing.model_copy(update={"destination_city": found[0]})  # the city by its code


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
                detail_en=f"the destination is a place where union outings are prohibited "
                f"({area.code})",
                clause=refs.clauses["prohibited"],
                reference_version=prohibited.version,
                area_code=area.code,
                source=source,
            )


# Benefits that belong to a workflow with its own approval: paid only through it, never asked
# for directly (a finance officer could otherwise pay relief around the register's four eyes).
WORKFLOW_ONLY: dict[Benefit, tuple[str, str]] = {
    Benefit.HARDSHIP_RELIEF: (
        "困难帮扶只能经困难职工档案申请并由第二人审批后发放",
        "hardship relief is paid only through the hardship register, once a second person "
        "approves it (POST /v1/hardship/cases/{case_id}/reliefs)",
    ),
}


def asked_directly(benefit: Benefit) -> None:
    """Refuses a benefit that only its workflow may pay."""
    if benefit in WORKFLOW_ONLY:
        zh, en = WORKFLOW_ONLY[benefit]
        raise InvalidInput(f"{zh}（{en}）", field="benefit", rule="benefit.workflow-only")
