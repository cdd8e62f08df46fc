"""Parameters every service takes the same way, with the limits that are part of the contract."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

YEAR_MIN, YEAR_MAX = 2000, 2100
YearPath = Annotated[
    int, Path(ge=YEAR_MIN, le=YEAR_MAX, description=f"Calendar year, {YEAR_MIN} to {YEAR_MAX}")
]
YearQuery = Annotated[
    int, Query(ge=YEAR_MIN, le=YEAR_MAX, description=f"Calendar year, {YEAR_MIN} to {YEAR_MAX}")
]
OptionalYear = Annotated[
    int | None,
    Query(ge=YEAR_MIN, le=YEAR_MAX, description=f"Calendar year, {YEAR_MIN} to {YEAR_MAX}"),
]
OrgQuery = Annotated[
    str | None,
    Query(max_length=200, description="Org path, e.g. shanxi/taiyuan/xiaodian/bu-0001"),
]
