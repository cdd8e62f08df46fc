"""Throughput with 1, 2 and 4 replicas of entitlements and disbursements on one stack, as a
province scales them out: the same batch, decisions from 20 callers and ledger reads at each
count, beside `/healthz` of the same replicas and the raw limits of PostgreSQL. On one machine
every replica shares its cores, so the table shows what replicas cost or give here and where
the ceiling is; `docs/operations.md` says what a province does past it.

    .venv/bin/python -m bench.replicas --members 20000 --counts 1 2 4

Writes `bench/runs/replicas.md` and RESULTS.md again (`make bench` runs it after the main run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import figures, limits, load
from bench.__main__ import RUNS, assemble, machine
from bench.stack import Running, cpu_seconds, import_roster, quiet, running, scale, token
from shared.auth import Role
from shared.clock import SystemClock, business_date
from shared.db.engine import asyncpg_dsn

SCALED = ("entitlements", "disbursements")


@dataclass(frozen=True)
class AtCount:
    replicas: int
    batch_per_s: float
    batch_cores: dict[str, float]  # cores each part kept busy during the batch
    decisions: figures.Decisions
    reads: load.Load
    healthz: load.Load


async def at_count(run: Running, replicas: int, members: int, ids: list[str]) -> AtCount:
    for service in SCALED:
        await scale(run, service, replicas)
    print(f"{replicas} replica(s) of {' and '.join(SCALED)} …", flush=True)
    before = cpu_seconds(run)
    batch = await figures.batch(run, members, f"replicas-{replicas}")
    after = cpu_seconds(run)
    cores = {
        part: (after[part] - before.get(part, 0.0)) / batch.seconds
        for part in sorted(after, key=lambda part: before.get(part, 0.0) - after[part])
    }
    await quiet(run)
    decisions = await figures.decisions(run, ids, one_at_a_time=20)
    await quiet(run)
    year = business_date(SystemClock()).year
    headers = token(Role.FINANCE_OFFICER)
    urls = run.urls("entitlements")
    reads = await load.closed_loop(
        urls,
        lambda i: f"/v1/members/{ids[i % len(ids)]}/ledgers/{year}",
        headers,
        connections=32,
        seconds=8,
    )
    healthz = await load.closed_loop(urls, lambda i: "/healthz", headers, connections=32, seconds=8)
    found = AtCount(replicas, members / batch.seconds, cores, decisions, reads, healthz)
    print(f"  {row(found)}", flush=True)
    return found


def row(m: AtCount) -> str:
    return (
        f"| {m.replicas} | {m.batch_per_s:,.0f} lines/s | {m.decisions.parallel_per_s:,.1f}/s, "
        f"p99 {m.decisions.parallel_p99_ms:,.0f} ms | {m.reads.per_second:,.0f} req/s, "
        f"p99 {m.reads.p99_ms:,.1f} ms | {m.healthz.per_second:,.0f} req/s | "
        + ", ".join(f"{part} {n:.2f}" for part, n in m.batch_cores.items() if n >= 0.01)
        + f" (of {os.cpu_count()}) |"
    )


async def measure(members: int, counts: list[int]) -> tuple[list[AtCount], dict[str, float]]:
    folder = Path(tempfile.mkdtemp(prefix="jinhui-bench-replicas-"))
    # each process of a service keeps up to DB_POOL_SIZE + DB_POOL_OVERFLOW connections and
    # one for LISTEN: four replicas of two services are past the embedded server's 100
    async with running(folder, max_connections=60 * max(counts) + 100) as run:
        pg = await limits.postgres(asyncpg_dsn(run.stack.database_urls["members"]))
        print(f"roster of {members:,} …", flush=True)
        await import_roster(run, members, first_id=400_000)
        ids = await figures.member_ids(run, 2000)
        await quiet(run)
        found = [await at_count(run, n, members, ids) for n in counts]
    shutil.rmtree(folder, ignore_errors=True)
    return found, pg


def section(members: int, found: list[AtCount], pg: dict[str, float], command: str) -> str:
    return "\n".join(
        [
            "## Replicas of entitlements and disbursements (one machine)",
            "",
            f"Machine: {machine()}. Measured {figures.now()} with `{command}`: {members:,} "
            "members, 8 partitions a topic; at each count a holiday-gift batch for every "
            "member, decisions from 20 callers spread over the disbursements replicas, and "
            "ledger reads and `/healthz` on 32 connections spread over the entitlements "
            "replicas. PostgreSQL in the same run: executemany "
            f"{pg['executemany']:,.0f} rows/s, COPY {pg['copy']:,.0f} rows/s, "
            f"single-row transactions {pg['single_tx']:,.0f}/s.",
            "",
            "| replicas | batch | decisions, 20 callers | ledger reads, 32 connections "
            "| `/healthz`, same replicas | cores busy during the batch |",
            "|---|---|---|---|---|---|",
            *(row(m) for m in found),
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    found, pg = asyncio.run(measure(args.members, args.counts))
    command = f"python -m bench.replicas --members {args.members} --counts " + " ".join(
        map(str, args.counts)
    )
    RUNS.mkdir(exist_ok=True)
    (RUNS / "replicas.md").write_text(section(args.members, found, pg, command))
    assemble()
    print(section(args.members, found, pg, command))


if __name__ == "__main__":
    main()
