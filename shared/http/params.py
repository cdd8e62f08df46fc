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


# Identifiers in a path, bounded as the tables that hold them: one longer than its column is
# refused 422 at the edge, naming the parameter, instead of failing in the database.
def _id(what: str, longest: int) -> object:
    return Path(min_length=1, max_length=longest, description=f"{what}, at most {longest} chars")


MemberId = Annotated[str, _id("The member's id", 40)]
CaseId = Annotated[str, _id("The hardship file's id", 40)]
ChildId = Annotated[str, _id("The child's id", 40)]
DisbursementId = Annotated[str, _id("The disbursement's id", 100)]
BatchId = Annotated[str, _id("The batch's id", 80)]
RecordId = Annotated[str, _id("The record's id", 64)]
