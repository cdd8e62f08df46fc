"""Roster import throughput: a base union's CSV of N members through `POST /v1/members/imports`
on the real local stack, in the chunks `jinhui members import` sends. Prints rows per second,
then the same file again (every row already a member).

    .venv/bin/python bench/roster_import.py [--rows 10000] [--chunk 500]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import tempfile
import time
from pathlib import Path

from jinhui.inprocess import running_service
from jinhui.localstack import Stack
from services.members.domain.identity import synthetic_id_number
from shared.auth import Role, issue_token
from shared.settings import ServiceSettings

UNION = "shanxi/taiyuan/xiaodian/bu-0001"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
FORMS = ["", "", "", "快递员", "外卖骑手", "网约车司机", "货车司机", "家政服务员"]


def roster(rows: int, start: int) -> list[list[str]]:
    return [
        [
            f"{SURNAMES[i % len(SURNAMES)]}{'明华英军芳强'[i % 6]}{i}",
            synthetic_id_number(start + i),
            f"139{i:08d}",
            "2020-05-01",
            FORMS[i % len(FORMS)],
            "是" if i % 3 == 0 else "否",
            "否",
            "否",
            f"A{i:06d}",
        ]
        for i in range(rows)
    ]


def chunk_bodies(lines: list[list[str]], size: int) -> list[str]:
    header = [
        "姓名",
        "身份证号",
        "手机号",
        "入会日期",
        "就业形态",
        "农民工",
        "少数民族",
        "烈属",
        "工号",
    ]
    bodies = []
    for i in range(0, len(lines), size):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(lines[i : i + size])
        bodies.append(out.getvalue())
    return bodies


async def main(rows: int, chunk: int) -> None:
    stack = Stack.start(Path(tempfile.mkdtemp(prefix="jinhui-bench-")), database_prefix="jinhui_b")
    try:
        await stack.prepare()
        token = issue_token(
            ServiceSettings(environment="test"),
            subject="bench",
            roles=[Role.HR_INTEGRATION],
            org=UNION,
        )
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
        bodies = chunk_bodies(roster(rows, 100_000), chunk)
        async with running_service("members", stack, birthday_scan_interval_s=3600) as members:
            for label in ("first import", "same file again"):
                counts: dict[str, int] = {}
                started = time.perf_counter()
                for n, body in enumerate(bodies):
                    response = await members.client.post(
                        "/v1/members/imports",
                        params={"union": UNION, "first_row": n * chunk + 1},
                        content=body.encode(),
                        headers=headers,
                        timeout=600,
                    )
                    response.raise_for_status()
                    for key in ("created", "already_member", "rejected"):
                        counts[key] = counts.get(key, 0) + response.json()[key]
                elapsed = time.perf_counter() - started
                print(
                    f"{label:>16}: {rows} rows in {elapsed:6.1f} s = {rows / elapsed:7.0f} rows/s"
                    f"  {counts}"
                )
    finally:
        stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.chunk))
