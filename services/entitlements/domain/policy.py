"""The policy as data: versions with effective dates, every rule with its clause.

A newer version governs every decision whose business date is on or after its effective date;
older decisions keep the version they were made under (each decision records it). The models
refuse unknown keys, and a test fails if a key is defined here but read by no decision, so the
file a provincial administrator publishes is the whole truth about the caps.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.entitlements.contracts import Benefit, GrantingLevel
from shared.money import MAX_AMOUNT_FEN

CountPer = Literal["member_year", "plan_cycle", "child", "child_year"]
Requirement = Literal[
    "birthday_reached", "child", "within_policy", "eligible_group", "new_employment_form",
    "union_standard",
]  # fmt: skip
Group = Literal[
    "martyr_family", "hardship", "new_employment_form", "migrant_worker", "ethnic_minority"
]
Settable = Literal["amount_fen", "expiry_days", "standard_fen", "yearly_total_fen"]


class UnionCeiling(BaseModel):
    """The most a union may set a value to, where the notice names no amount: a province-wide
    maximum beyond which a standard is a slip of the keyboard, not a policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max: int = Field(ge=1, le=MAX_AMOUNT_FEN)
    source: str = Field(min_length=1, max_length=400)


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    clause: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=100, description="Chinese title")
    title_en: str = Field(min_length=1, max_length=200)


class Trip(BaseModel):
    """Clause 4: how long an outing may last and what it may pay for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_days: int = Field(ge=1, le=30)
    max_nights: int = Field(ge=0, le=30)
    cost_categories: list[str] = Field(min_length=1)


class BenefitRule(_Rule):
    cap_fen: int | None = Field(default=None, ge=1, le=MAX_AMOUNT_FEN)
    max_count: int | None = Field(default=None, ge=1)
    count_per: CountPer = "member_year"
    count_kept_once_issued: bool = False
    cycle_years: int | None = Field(default=None, ge=1, le=20)
    cycle_start_year: int | None = Field(default=None, ge=2000, le=2100)
    requires: list[Requirement] = Field(default_factory=list)
    eligible_groups: list[Group] = Field(default_factory=list)
    occupations: list[str] = Field(default_factory=list)
    per_child_fen: dict[int, int] | None = None
    min_days_between_births: int | None = Field(default=None, ge=1)
    # A right of the child's, not the parent's: counted once per child whichever parent asks
    # (each spouse's childbirth gift is the parent's own; a child's summer camp is not).
    counted_across_parents: bool = False
    # A benefit for a child up to this age on the business date (the summer camp).
    max_child_age: int | None = Field(default=None, ge=0, le=30)
    # Births this close are one delivery (twins either side of midnight), never "too close".
    same_delivery_within_days: int = Field(default=0, ge=0, le=7)
    union_rule: str | None = None
    union_may_set: list[Settable] = Field(default_factory=list)
    union_ceilings: dict[Settable, UnionCeiling] = Field(default_factory=dict)
    union_standard_inherited: bool = True
    granted_by: GrantingLevel | None = None
    trip: Trip | None = None

    @model_validator(mode="after")
    def _consistent(self) -> BenefitRule:
        if self.count_per == "plan_cycle" and self.cycle_years is None:
            raise ValueError("count_per plan_cycle needs cycle_years")
        if self.count_per in ("child", "child_year") and "child" not in self.requires:
            raise ValueError(f"count_per {self.count_per} needs `child` in requires")
        if "eligible_group" in self.requires and not self.eligible_groups:
            raise ValueError("requires eligible_group needs eligible_groups")
        per_child = ("per_child_fen", "min_days_between_births", "max_child_age")
        for name in per_child:
            if getattr(self, name) is not None and "child" not in self.requires:
                raise ValueError(f"{name} is about a child: it needs `child` in requires")
        if self.per_child_fen is not None:
            if sorted(self.per_child_fen) != list(range(1, len(self.per_child_fen) + 1)):
                raise ValueError("per_child_fen maps each birth order from 1 up to an amount")
            if not all(1 <= v <= MAX_AMOUNT_FEN for v in self.per_child_fen.values()):
                raise ValueError(f"per_child_fen amounts lie between 1 and {MAX_AMOUNT_FEN}")
        return self

    def ceiling_of(self, name: Settable) -> int | None:
        """The most a union may set `name` to: the provincial cap where the notice names one,
        else the ceiling the policy file gives, whichever is lower."""
        found = [c.max for n, c in self.union_ceilings.items() if n == name]
        if self.cap_fen is not None and name != "expiry_days":
            found.append(self.cap_fen)
        return min(found) if found else None

    def cycle_of(self, year: int) -> tuple[int, int]:
        """First and last year of the participation cycle that contains `year`."""
        if self.cycle_years is None:
            return year, year
        anchor = self.cycle_start_year or year
        first = anchor + (year - anchor) // self.cycle_years * self.cycle_years
        return first, first + self.cycle_years - 1

    @property
    def yearly_cap(self) -> bool:
        """The amount cap and count are per member per calendar year (one line of the ledger)."""
        return self.count_per == "member_year"


class UnionRule(_Rule):
    max_multiple_of_dues: int | None = Field(default=None, ge=0, le=100)
    floor_of: Literal["consumption_share_fen"] | None = None


class Books(BaseModel):
    """When a year's books close: the end of this day of the following year."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    close_month: int = Field(ge=1, le=12, description="Month of the following year", examples=[1])
    close_day: int = Field(ge=1, le=31, description="Day of that month", examples=[31])

    @model_validator(mode="after")
    def _a_real_day(self) -> Books:
        date(2001, self.close_month, self.close_day)  # a day every year has (no 29 February)
        return self

    def closing_day(self, year: int) -> date:
        return date(year + 1, self.close_month, self.close_day)


class PolicyVersion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(
        min_length=1,
        max_length=60,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="版本号, unique",
        examples=["shanxi-2025-26"],
    )
    effective_from: date = Field(description="生效日期: governs requests dated from this day")
    source: str = Field(max_length=500, description="依据: the document it comes from")
    books: Books = Field(description="When a year's books close")
    member_benefits: dict[Benefit, BenefitRule] = Field(
        description="Each measure paid to members, with its clause, caps and requirements"
    )
    union_rules: dict[str, UnionRule] = Field(
        default_factory=dict, description="Rules on a union's own spending (clauses 3 and 8)"
    )

    @model_validator(mode="after")
    def _union_rules_exist(self) -> PolicyVersion:
        for name, rule in self.member_benefits.items():
            if rule.union_rule is not None and rule.union_rule not in self.union_rules:
                raise ValueError(f"{name}: union rule {rule.union_rule} is not defined")
        return self

    def rule_for(self, benefit: str) -> BenefitRule | None:
        """The rule of a member benefit named by its code; None for a code this version lacks
        (a union-level rule, or a code from elsewhere)."""
        try:
            return self.member_benefits.get(Benefit(benefit))
        except ValueError:
            return None

    def union_rule_of(self, benefit: str) -> tuple[str, UnionRule] | None:
        """The union-level rule a member benefit also counts against, if any."""
        rule = self.rule_for(benefit)
        if rule is None or rule.union_rule is None:
            return None
        return rule.union_rule, self.union_rules[rule.union_rule]


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
