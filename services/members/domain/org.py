"""The union org tree: provincial federation → city federations and provincial industrial
unions → county-level unions → base unions. Members belong to base unions only.

The tree is reference data, kept as rows and loaded from a file or through the admin API; its
paths are the same org paths that tokens carry, so "may this caller act here" is a prefix test.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.auth import parse_org
from shared.errors import InvalidInput


class OrgKind(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    INDUSTRIAL = "industrial"
    COUNTY = "county"
    BASE = "base"


# Where each kind may sit (depth of its path); a base union may hang under any level above it.
_DEPTHS: dict[OrgKind, set[int]] = {
    OrgKind.PROVINCE: {1},
    OrgKind.CITY: {2},
    OrgKind.INDUSTRIAL: {2},
    OrgKind.COUNTY: {3},
    OrgKind.BASE: {2, 3, 4},
}


class OrgUnit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="e.g. shanxi/taiyuan/xiaodian/bu-0001")
    name: str = Field(
        min_length=1, max_length=200, description="名称", examples=["小店区总工会第一基层工会"]
    )
    kind: OrgKind = Field(description="组织类型: the level of the unit in the union tree")

    @field_validator("path")
    @classmethod
    def _normal_path(cls, value: str) -> str:
        return parse_org(value)

    @property
    def parent(self) -> str | None:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else None

    @property
    def depth(self) -> int:
        return self.path.count("/") + 1


def check_tree(units: Iterable[OrgUnit], existing: dict[str, OrgKind]) -> None:
    """Each unit sits at a depth its kind allows, under a parent that exists and is not a base
    union. `existing` is the tree as stored; the new units may refer to each other."""
    known = dict(existing)
    for unit in sorted(units, key=lambda u: u.depth):
        if unit.depth not in _DEPTHS[unit.kind]:
            raise InvalidInput(
                f"a {unit.kind} union cannot sit at level {unit.depth} ({unit.path})",
                field="kind",
                rule="org.level",
            )
        parent = unit.parent
        if parent is not None:
            if parent not in known:
                raise InvalidInput(
                    f"{unit.path}: parent {parent} is not in the tree",
                    field="path",
                    rule="org.parent",
                )
            if known[parent] is OrgKind.BASE:
                raise InvalidInput(
                    f"{unit.path}: a base union has no units below it",
                    field="path",
                    rule="org.parent",
                )
        previous = known.get(unit.path)
        if previous is not None and previous is not unit.kind:
            raise InvalidInput(
                f"{unit.path} is already a {previous} union", field="kind", rule="org.kind"
            )
        known[unit.path] = unit.kind
