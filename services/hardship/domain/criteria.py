"""Assessment criteria as data: a versioned table of the cities' minimum living standards and
the multiples that make a household deeply or relatively in hardship."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from services.hardship.contracts import HardshipLevel

REFERENCE = Path(__file__).resolve().parent.parent / "reference"


class Criteria(BaseModel):
    version: str
    effective_from: date
    source: str
    deep_multiple: Decimal
    relative_multiple: Decimal
    accident_causes: list[str]
    review_after_days: int
    follow_up_after_days: int
    emergency_convert_within_days: int
    second_approval_above_fen: int
    # Relief requested on one case within this many days counts together against the threshold:
    # five grants of 2,000 yuan in a week need a second person as one of 10,000 would.
    second_approval_period_days: int = Field(default=30, ge=1, le=366)
    minimum_living_standard_fen: dict[str, int]

    def standard_for(self, city: str) -> int:
        table = self.minimum_living_standard_fen
        return table.get(city.lower(), table["default"])

    def level(
        self, city: str, income_per_head_fen: int, causes: list[str], sudden: bool
    ) -> HardshipLevel | None:
        """Deep below the standard, relative below its multiple, accident-caused when a sudden
        cause struck; None when the household is not in hardship by these criteria."""
        standard = Decimal(self.standard_for(city))
        if income_per_head_fen < standard * self.deep_multiple:
            return HardshipLevel.DEEP
        if sudden and set(causes) & set(self.accident_causes):
            return HardshipLevel.ACCIDENT
        if income_per_head_fen < standard * self.relative_multiple:
            return HardshipLevel.RELATIVE
        return None


class CriteriaBook:
    def __init__(self, versions: list[Criteria]) -> None:
        self.versions = sorted(versions, key=lambda v: v.effective_from)

    @classmethod
    def bundled(cls) -> CriteriaBook:
        data = yaml.safe_load((REFERENCE / "assessment-criteria.yaml").read_text(encoding="utf-8"))
        return cls([Criteria.model_validate(v) for v in data["versions"]])

    def in_force(self, on: date) -> Criteria:
        found = [v for v in self.versions if v.effective_from <= on]
        if not found:
            raise LookupError(f"no assessment criteria in force on {on}")
        return found[-1]
