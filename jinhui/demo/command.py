"""`jinhui demo`: live through a year of one base union on the local stack, then report."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.progress import TaskID
from rich.table import Table

from jinhui.demo import calendar, collect, runner
from jinhui.demo.report import Year, write_report
from jinhui.progress import progress_bar
from shared.db.engine import asyncpg_dsn, with_database


def run_demo(
    console: Console, state_dir: Path, *, members: int, year: int, out: Path | None, seed: int
) -> Path:
    """The report's path; the summary is printed as it is written."""

    target = out or state_dir / f"demo-report-{year}.html"
    server = _running_server(state_dir)
    if server:
        console.print(
            "使用正在运行的本地 PostgreSQL（演示数据库用完即删） "
            "using the running stack's PostgreSQL"
        )

    async def run() -> Year:
        rng = random.Random(seed)
        with progress_bar(console) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(what: str, done: int, total: int) -> None:
                if what not in tasks:
                    tasks[what] = bar.add_task(what, total=total)
                bar.update(tasks[what], completed=done)

            progress("starting PostgreSQL, the broker and the services", 0, 1)
            async with runner.demo_stack(year, server) as services:
                progress("starting PostgreSQL, the broker and the services", 1, 1)
                progress("HR roster import", 0, members)
                await runner.import_roster(services, members, rng)
                await runner.known_downstream(services)
                progress("HR roster import", members, members)
                await runner.setup_union(services, year)
                year_stats = await calendar.a_year(services, year, rng, progress)
                return await collect.collect(services, year, year_stats["hardship"])

    report = asyncio.run(run())
    table = Table(title=f"{runner.UNION} {year} 年 (a year of the union)")
    table.add_column("")
    table.add_column("", justify="right")
    for key, value in report.summary:
        table.add_row(key, value)
    console.print(table)
    path = write_report(target, report)
    console.print(f"报告 report: {path.resolve()}")
    return path


def _running_server(state_dir: Path) -> str | None:
    """The PostgreSQL server of a local stack `jinhui up` started, if one answers."""
    described = state_dir / "stack.json"
    if not described.exists():
        return None
    try:
        url = json.loads(described.read_text())["database_urls"]["members"]
    except (ValueError, KeyError):
        return None
    server = with_database(url, "postgres")
    try:
        asyncio.run(_answers(server))
    except (OSError, TimeoutError, asyncpg.PostgresError):
        return None
    return server


async def _answers(url: str) -> None:
    conn = await asyncio.wait_for(
        asyncpg.connect(asyncpg_dsn(url)),
        3,
    )
    await conn.close()
