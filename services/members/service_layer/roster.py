"""Bulk roster import: a base union's member list as CSV, as a spreadsheet exports it.

Headers may be Chinese or English (姓名/name, 身份证号/id_number, 手机号/phone, 入会日期/
join_date, 就业形态/employment_form, 农民工/migrant_worker, 少数民族/ethnic_minority,
烈属/martyr_family, 工号/employee_number, 性别/sex, 出生日期/birth_date). Each row runs in its
decision: a bad row is reported and the others go in. Reasons never repeat the values.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from services.members.adapters.repository import members_by_fingerprints
from services.members.contracts import EmploymentForm
from services.members.domain.commands import RegisterMember
from services.members.service_layer.handlers import (
    MembersContext,
    NewMember,
    checked_id_number,
    lock_fingerprints,
    new_member,
    write_new_members,
)
from services.members.service_layer.hr import describe
from shared.clock import business_date
from shared.errors import (
    DomainError,
    InvalidInput,
    describe_validation_error,
)
from shared.telemetry.metrics import ROSTER_ROWS
from shared.uow import Transaction

HEADERS = {
    "name": ("姓名", "name"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "id_number"),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "phone"),
    "join_date": ("入会日期", "入会时间", "join_date"),
    "employment_form": ("就业形态", "employment_form"),
    "migrant_worker": ("农民工", "migrant_worker"),
    "ethnic_minority": ("少数民族", "ethnic_minority"),
    "martyr_family": ("烈属", "革命烈士家属", "martyr_family"),
    "employee_number": ("工号", "职工编号", "employee_number"),
    "sex": ("性别", "sex"),
    "birth_date": ("出生日期", "birth_date"),
}
REQUIRED = ("name", "id_number", "join_date")
FORMS = {
    "": EmploymentForm.STANDARD,
    "标准": EmploymentForm.STANDARD,
    "普通职工": EmploymentForm.STANDARD,
    "货车司机": EmploymentForm.TRUCK_DRIVER,
    "网约车司机": EmploymentForm.RIDE_HAILING_DRIVER,
    "网约车驾驶员": EmploymentForm.RIDE_HAILING_DRIVER,
    "快递员": EmploymentForm.COURIER,
    "快递小哥": EmploymentForm.COURIER,
    "外卖配送员": EmploymentForm.FOOD_DELIVERY_RIDER,
    "外卖骑手": EmploymentForm.FOOD_DELIVERY_RIDER,
    "家政服务员": EmploymentForm.DOMESTIC_SERVICE,
    **{f.value: f for f in EmploymentForm},
}
ACCEPTED_FORMS = [k for k in FORMS if k and not k.isascii()]
YES = {"是", "y", "yes", "true", "1", "√"}
NO = {"否", "n", "no", "false", "0", ""}
SEXES = {"男": "male", "女": "female", "male": "male", "female": "female"}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


@dataclass
class RowResult:
    """`row` is the row the clerk sees in the spreadsheet (the header is row 1); name and 工号
    come back from the clerk's own file, so each line of the report can be found."""

    row: int
    status: str  # created | already_member | rejected
    member_id: str | None = None
    reason: str | None = None
    name: str | None = None
    employee_number: str | None = None


@dataclass
class ImportReport:
    union: str
    results: list[RowResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def read_rows(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Map the header to field names; returns (field → header, rows keyed by field). Each row
    also carries `_record`: its place among the file's data rows, blank rows counted, so that
    row numbers match the spreadsheet's."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        return _read(reader)
    except csv.Error:  # a field past the reader's limit: an unterminated quote, most often
        raise InvalidInput(
            f"文件第 {reader.line_num} 行附近不是有效的 CSV（引号未闭合或单元格过长）"
            f"（not valid CSV near line {reader.line_num}: an unclosed quote or a cell too long）",
            field="file",
            rule="roster.csv",
        ) from None


def _read(reader: Iterator[list[str]]) -> tuple[dict[str, str], list[dict[str, str]]]:
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InvalidInput("the file is empty", field="file") from None
    columns: dict[str, int] = {}
    for name, aliases in HEADERS.items():
        for i, h in enumerate(header):
            if h.lower() in aliases or h in aliases:
                columns[name] = i
    missing = [HEADERS[n][0] + "/" + n for n in REQUIRED if n not in columns]
    if missing:
        raise InvalidInput(
            "the header lacks: " + ", ".join(missing), field="file", rule="roster.header"
        )
    rows = [
        {name: (line[i].strip() if i < len(line) else "") for name, i in columns.items()}
        | {"_record": str(n)}
        for n, line in enumerate(reader)
        if any(cell.strip() for cell in line)
    ]
    return {n: header[i] for n, i in columns.items()}, rows


def parse_date(value: str, column: str) -> date:
    match = _DATE.match(value.strip())
    try:
        if match:
            return date(*(int(g) for g in match.groups()))
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{column}: not a date (use 2024-05-01)", field=column) from None


def _flag(value: str, column: str) -> bool:
    v = value.strip().lower()
    if v in YES:
        return True
    if v in NO:
        return False
    raise InvalidInput(f"{column}: use 是 or 否", field=column)


def to_command(row: dict[str, str], union: str) -> RegisterMember:
    form = FORMS.get(row.get("employment_form", "").strip())
    if form is None:
        raise InvalidInput(
            "就业形态无法识别，可填：" + "、".join(ACCEPTED_FORMS) + " (employment_form: not a "
            "known employment form; accepted: " + ", ".join(f.value for f in EmploymentForm) + ")",
            field="employment_form",
        )
    sex = row.get("sex", "").strip().lower()
    if sex and sex not in SEXES:
        raise InvalidInput("性别请填 男 或 女 (sex: use 男 or 女, male or female)", field="sex")
    values: dict[str, Any] = {
        "base_union": union,
        "name": row["name"],
        "id_number": row["id_number"],
        "phone": row.get("phone") or None,
        "join_date": parse_date(row["join_date"], "join_date"),
        "employment_form": form,
        "migrant_worker": _flag(row.get("migrant_worker", ""), "migrant_worker"),
        "ethnic_minority": _flag(row.get("ethnic_minority", ""), "ethnic_minority"),
        "martyr_family": _flag(row.get("martyr_family", ""), "martyr_family"),
        "employee_number": row.get("employee_number") or None,
        "sex": SEXES[sex] if sex else None,
        "birth_date": parse_date(row["birth_date"], "birth_date")
        if row.get("birth_date")
        else None,
    }
    try:
        return RegisterMember.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc), field="row") from None


async def import_roster(
    ctx: MembersContext,
    tx: Transaction,
    text: str,
    union: str,
    actor: str,
    first_row: int = 1,
) -> ImportReport:
    """Decide every row first, then write the new members in a handful of statements.

    A row is rejected for its own fault only; an ID number already in the registry, or
    earlier in the same file, makes the row `already_member` with that member's id. The
    union was checked by the caller.
    """
    _, rows = read_rows(text)
    today = business_date(ctx.clock)
    results: dict[int, RowResult] = {}
    decided: list[tuple[int, NewMember]] = []
    seen: dict[int, dict[str, str]] = {}
    for row in rows:
        number = first_row + int(row["_record"]) + 1  # + 1: the spreadsheet's header row
        seen[number] = row
        try:
            cmd = to_command(row, union)
            decided.append(
                (number, new_member(ctx, cmd, checked_id_number(cmd, today), union, today))
            )
        except DomainError as exc:
            results[number] = RowResult(number, "rejected", reason=describe(exc))
    fingerprints = [str(n.identity["id_hash"]) for _, n in decided]
    await lock_fingerprints(tx, fingerprints)
    known = await members_by_fingerprints(tx.session, fingerprints)
    fresh: list[NewMember] = []
    for number, candidate in decided:
        fingerprint = str(candidate.identity["id_hash"])
        if fingerprint in known:
            results[number] = RowResult(number, "already_member", known[fingerprint])
            continue
        member_id = candidate.member.partition_key()
        known[fingerprint] = member_id
        fresh.append(candidate)
        results[number] = RowResult(number, "created", member_id)
    await write_new_members(tx, fresh, actor)
    for number, result in results.items():
        result.name = seen[number].get("name") or None
        result.employee_number = seen[number].get("employee_number") or None
    report = ImportReport(union, [results[n] for n in sorted(results)])
    for result in report.results:
        ROSTER_ROWS.labels(result.status).inc()
    return report
