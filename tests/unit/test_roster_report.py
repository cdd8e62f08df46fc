"""The roster import as an HR clerk reads it: spreadsheet row numbers, 工号 and name on every
line of the report, Chinese first."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from services.members.entrypoints import cli


def test_chunks_keep_blank_rows_so_row_numbers_match_the_sheet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli, "CHUNK", 2)
    text = "姓名,身份证号,入会日期\n甲,1,2020-01-01\n,,\n乙,2,2020-01-01\n丙,3,2020-01-01\n"
    chunks = cli.chunks(text)
    assert [first for first, _ in chunks] == [1, 3]  # the blank third sheet row is counted
    assert chunks[1][1].splitlines()[1].startswith("乙")


def test_the_report_names_each_row_as_the_clerk_knows_it(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    results: list[dict[str, object]] = [
        {
            "row": 2,
            "status": "created",
            "member_id": "m-1",
            "reason": None,
            "name": "张三",
            "employee_number": "A001",
        },
        {
            "row": 5,
            "status": "rejected",
            "member_id": None,
            "reason": "就业形态无法识别",
            "name": "怪形态",
            "employee_number": "A008",
        },
    ]
    cli._report(roster, None, results)
    lines = list(csv.reader(roster.with_suffix(".report.csv").open(encoding="utf-8-sig")))
    assert lines[0][:4] == ["表格行号/row", "工号/employee_number", "姓名/name", "结果/status"]
    assert lines[1][:4] == ["2", "A001", "张三", "已登记 created"]
    assert lines[2][:4] == ["5", "A008", "怪形态", "未导入 rejected"]
    assert lines[2][5] == "就业形态无法识别"
