"""The policy as data: versions with effective dates, every rule with its clause.

A newer version governs every decision whose business date is on or after its effective date;
older decisions keep the version they were made under (each decision records it).
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

BenefitName = Literal[
    "voucher",
    "recuperation",
    "culture_sports",
    "outing",
    "culture_tourism_product",
    "training_subsidy",
    "holiday_gift",
    "birthday_gift",
    "childbirth_gift",
    "consumption_assistance",
    "nef_injury_insurance",
    "summer_camp",
    "hardship_relief",
]


class BenefitRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    clause: str
    title: str
    cap_fen: int | None = Field(default=None, ge=0)
    max_count: int | None = Field(default=None, ge=0)
    max_days: int | None = None
    max_nights: int | None = None
    cycle_years: int | None = None
    cycle_start_year: int | None = None
    requires: Literal["birthday_reached", "new_employment_form", "summer_camp_eligible"] | None = (
        None
    )
    requires_union_standard: bool = False
    per_child_fen: dict[int, int] | None = None
    within_policy_only: bool = False
    base_union_may_set: list[str] = Field(default_factory=list)

    def cycle_of(self, year: int) -> tuple[int, int] | None:
        """First and last year of the participation cycle that contains `year`."""
        if self.cycle_years is None:
            return None
        anchor = self.cycle_start_year or year
        first = anchor + (year - anchor) // self.cycle_years * self.cycle_years
        return first, first + self.cycle_years - 1

    @property
    def annual(self) -> bool:
        """Counted per member per calendar year (rather than per child or per cycle)."""
        return self.per_child_fen is None and self.cycle_years is None


class UnionRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    clause: str
    title: str
    max_multiple_of_dues: int | None = None
    eligible: list[str] = Field(default_factory=list)
    occupations: list[str] = Field(default_factory=list)


class PolicyVersion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    effective_from: date
    source: str
    member_benefits: dict[BenefitName, BenefitRule]
    union_rules: dict[str, UnionRule] = Field(default_factory=dict)


class PolicyBook:
    """Every known version, newest last; answers which one governs a business date."""

    def __init__(self, versions: list[PolicyVersion]) -> None:
        self._versions = sorted(versions, key=lambda v: v.effective_from)

    def in_force(self, on: date) -> PolicyVersion:
        governing = [v for v in self._versions if v.effective_from <= on]
        if not governing:
            raise LookupError(f"no policy version in force on {on.isoformat()}")
        return governing[-1]

    def with_version(self, version: PolicyVersion) -> PolicyBook:
        return PolicyBook([*(v for v in self._versions if v.version != version.version), version])

    @property
    def versions(self) -> list[PolicyVersion]:
        return list(self._versions)


def load_bundled_policies() -> PolicyBook:
    folder = resources.files("services.entitlements") / "policies"
    versions = [
        PolicyVersion.model_validate(yaml.safe_load(item.read_text(encoding="utf-8")))
        for item in folder.iterdir()
        if item.name.endswith(".yaml")
    ]
    return PolicyBook(versions)
