"""`make bench`: every performance figure beside the raw limit it is bounded by, measured in
the same run on this machine, and `bench/RESULTS.md` written with the machine, the date and
the command.

    .venv/bin/python -m bench                       # 100,000 members, about ten minutes
    .venv/bin/python -m bench --members 5000        # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import figures, limits
from bench.stack import import_roster, quiet, running
from shared.db.engine import asyncpg_dsn
from shared.settings import ServiceSettings

RESULTS = Path(__file__).with_name("RESULTS.md")
RUNS = Path(__file__).with_name("runs")  # one section per roster size


@dataclass(frozen=True)
class Row:
    target: str
    figure: str
    value: float
    unit: str
    goal: str
    limit_name: str
    limit: float | None  # the raw limit, in the same unit as the figure where a ratio makes sense

    def shown(self) -> str:
        return (
            f"{self.value:,.1f} {self.unit}"
            if self.value < 100
            else f"{self.value:,.0f} {self.unit}"
        )

    def ratio(self) -> str:
        return "" if not self.limit else f"{self.value / self.limit:.0%}"


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


async def measure(members: int) -> tuple[list[Row], dict[str, float], dict[str, float]]:
    folder = Path(tempfile.mkdtemp(prefix="jinhui-bench-"))
    try:
        measured = await _measured(folder, members)
    except BaseException:
        print(f"the stack's data and the services' logs are kept in {folder}", flush=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)  # a million members leave tens of gigabytes
    return _rows(members, measured)


@dataclass(frozen=True)
class Measured:
    pg: dict[str, float]
    kafka_ms: float
    fetch_wait: int
    first_s: float
    roster_s: float
    decisions: figures.Decisions
    reads: figures.Reads
    batch: figures.Batch
    events: int
    rebuild: float
    append: float
    databases: dict[str, float]
    rss: dict[str, float]


async def _measured(folder: Path, members: int) -> Measured:
    async with running(folder) as run:
        print("first registration on a stack just ready …", flush=True)
        first_s = await figures.first_event(run)
        print("raw limits …", flush=True)
        pg = await limits.postgres(asyncpg_dsn(run.stack.database_urls["members"]))
        fetch_wait = ServiceSettings().kafka_fetch_max_wait_ms
        kafka_ms = await limits.kafka_round_trip_ms(run.stack.bootstrap_servers, fetch_wait)
        print(f"  PostgreSQL {pg}; Kafka round trip {kafka_ms:.2f} ms", flush=True)

        print(f"roster of {members:,} …", flush=True)
        roster_s = await import_roster(run, members, first_id=400_000)
        ids = await figures.member_ids(run, 2000)
        await quiet(run)

        print("single decisions …", flush=True)
        d = await figures.decisions(run, ids)
        await quiet(run)
        print("ledger reads …", flush=True)
        reads = await figures.ledger_reads(run, ids)
        print(f"batch of {members:,} …", flush=True)
        batch = await figures.batch(run, members, "bench-holiday")
        await quiet(run)
        print("rebuild and append …", flush=True)
        events, rebuild = await figures.rebuild_rate(run)
        append = await figures.append_rate(run)
        databases = await run.database_mb()
        rss = dict(run.peak_rss_mb)
    return Measured(
        pg,
        kafka_ms,
        fetch_wait,
        first_s,
        roster_s,
        d,
        reads,
        batch,
        events,
        rebuild,
        append,
        databases,
        rss,
    )


def _rows(members: int, m: Measured) -> tuple[list[Row], dict[str, float], dict[str, float]]:
    pg, d, reads, batch, rss = m.pg, m.decisions, m.reads, m.batch, m.rss

    per_line_rows = 20  # rows one batch line writes across the services (events, outbox, reads)
    rows = [
        Row(
            "P5",
            f"batch of {members:,}: every line decided, issued, on payroll",
            members / batch.seconds,
            "lines/s",
            "≥ 1,667 lines/s (100,000 in ≤ 60 s)",
            f"PostgreSQL executemany rows/s ÷ {per_line_rows} rows a line",
            pg["executemany"] / per_line_rows,
        ),
        Row("P5", f"batch of {members:,}: seconds", batch.seconds, "s", "≤ 60 s", "", None),
        Row("P5", f"roster of {members:,} known downstream", m.roster_s, "s", "≤ 20 s", "", None),
        Row(
            "P1",
            "a registration on a stack just ready, known to entitlements",
            m.first_s * 1000,
            "ms",
            "≤ 5,000 ms",
            "Kafka round trip (one hop)",
            m.kafka_ms,
        ),
        Row(
            "P3",
            "one decision at a time, p50",
            d.one_p50_ms,
            "ms",
            "",
            "Kafka round trip × 3 (three hops)",
            m.kafka_ms * 3,
        ),
        Row(
            "P3",
            "one decision at a time, p99",
            d.one_p99_ms,
            "ms",
            "≤ 50 ms",
            "Kafka round trip × 3 (three hops)",
            m.kafka_ms * 3,
        ),
        Row(
            "P3",
            f"decisions from {d.callers} callers",
            d.parallel_per_s,
            "decisions/s",
            "≥ 200/s",
            "",
            None,
        ),
        Row(
            "P3",
            f"decisions from {d.callers} callers, p99",
            d.parallel_p99_ms,
            "ms",
            "≤ 100 ms",
            "",
            None,
        ),
        Row(
            "P4",
            "ledger read, 2 connections",
            reads.ledger[2].per_second,
            "req/s",
            "",
            "/healthz, same process, 2 connections",
            reads.healthz[2].per_second,
        ),
        Row(
            "P4",
            "ledger read, 32 connections",
            reads.ledger[32].per_second,
            "req/s",
            "≥ 1,500",
            "/healthz, same process, 32 connections",
            reads.healthz[32].per_second,
        ),
        Row(
            "P4",
            "ledger read at 1,000 req/s offered, p99",
            reads.paced.p99_ms,
            "ms",
            "≤ 10 ms",
            "",
            None,
        ),
        Row(
            "P4",
            "ledger read at 1,000 req/s offered, achieved",
            reads.paced.per_second,
            "req/s",
            "",
            "",
            None,
        ),
        Row(
            "P2",
            f"rebuild of entitlements' read tables ({m.events:,} events)",
            m.rebuild,
            "events/s",
            "≥ 50,000",
            "PostgreSQL COPY rows/s",
            pg["copy"],
        ),
        Row(
            "—",
            "event store append, 8 writers, 1 event a transaction",
            m.append,
            "events/s",
            "",
            "PostgreSQL single-row transactions/s, 8 connections",
            pg["single_tx"],
        ),
        Row(
            "P6",
            "entitlements' peak resident memory",
            rss.get("entitlements", 0),
            "MB",
            "≤ 300 MB",
            "",
            None,
        ),
    ]
    extra = {
        "pg_executemany": pg["executemany"],
        "pg_copy": pg["copy"],
        "pg_single_tx": pg["single_tx"],
        "kafka_ms": m.kafka_ms,
        "fetch_wait_ms": m.fetch_wait,
    }
    sizes = {f"{k} RSS MB": v for k, v in rss.items()} | {
        f"{k} DB MB": v for k, v in m.databases.items()
    }
    print(f"  batch by status: {batch.by_status}")
    return rows, extra, sizes


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| | figure | measured | target | raw limit, same run | limit | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        limit = "" if r.limit is None else f"{r.limit:,.1f}" if r.limit < 100 else f"{r.limit:,.0f}"
        lines.append(
            f"| {r.target} | {r.figure} | {r.shown()} | {r.goal} | {r.limit_name} | {limit} | "
            f"{r.ratio()} |"
        )
    return lines


def write_results(
    rows: list[Row], extra: dict[str, float], sizes: dict[str, float], command: str, members: int
) -> None:
    """This run's section in `bench/runs/<members>.md`, then RESULTS.md again from every
    size measured (a million-member run does not replace the hundred-thousand one) and the
    notes."""
    section = [
        f"## {members:,} members",
        "",
        f"Machine: {machine()}. Measured {figures.now()} with `{command}`.",
        "",
        *table(rows),
        "",
        "Raw limits: PostgreSQL executemany "
        f"{extra['pg_executemany']:,.0f} rows/s (500-row transactions), COPY "
        f"{extra['pg_copy']:,.0f} rows/s, single-row transactions "
        f"{extra['pg_single_tx']:,.0f}/s (8 connections); one Kafka round trip "
        f"{extra['kafka_ms']:.2f} ms (with the {extra['fetch_wait_ms']:.0f} ms fetch wait the "
        "services use).",
        "",
        "Memory and size at the end of the run: "
        + ", ".join(f"{k} {v:,.0f}" for k, v in sizes.items())
        + ".",
        "",
    ]
    RUNS.mkdir(exist_ok=True)
    (RUNS / f"{members}.md").write_text("\n".join(section))
    assemble()


def assemble() -> None:
    """RESULTS.md from every roster size measured and the notes."""
    text = [
        "# Benchmark figures",
        "",
        "Embedded PostgreSQL, the Tansu broker and the four services (each in its own uvicorn "
        "process, one worker) on one machine. Each figure stands beside the raw limit of the "
        "part that bounds it, measured in the same run. The members service's birthday scan is "
        "held off during a run: for a new roster of 100,000 its catch-up is a load of its own.",
        "",
    ]
    # the roster sizes in order, then the other tables (replicas)
    runs = sorted(RUNS.glob("*.md"), key=lambda f: (0, int(f.stem)) if f.stem.isdigit() else (1, 0))
    text += [run.read_text() for run in runs]
    notes = RESULTS.with_name("NOTES.md")
    if notes.exists():
        text += [notes.read_text()]
    RESULTS.write_text("\n".join(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    rows, extra, sizes = asyncio.run(measure(args.members))
    print("\n".join(table(rows)))
    print(
        f"PostgreSQL executemany {extra['pg_executemany']:,.0f} rows/s, COPY "
        f"{extra['pg_copy']:,.0f} rows/s, single-row tx {extra['pg_single_tx']:,.0f}/s; "
        f"Kafka round trip {extra['kafka_ms']:.2f} ms"
    )
    print(", ".join(f"{k} {v:,.0f}" for k, v in sizes.items()))
    command = "python -m bench" + ("" if args.members == 100_000 else f" --members {args.members}")
    write_results(rows, extra, sizes, command, args.members)
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
