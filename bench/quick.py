"""A few figures on a small stack, to see what one change does in a minute or two before the
full run (`make bench`). Prints the figures; writes nothing.

    .venv/bin/python -m bench.quick first decisions reads --members 5000
    .venv/bin/python -m bench.quick overload --members 2000 --concurrent 1000   # refusals
    .venv/bin/python -m bench.quick resend --members 20000   # new work behind a re-send
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
from pathlib import Path

from bench import figures, load
from bench.stack import import_roster, quiet, running

FIGURES = ("first", "decisions", "reads", "batch", "rebuild", "overload", "resend")


async def measure(members: int, wanted: list[str], concurrent: int = 500) -> None:
    folder = Path(tempfile.mkdtemp(prefix="jinhui-bench-"))
    async with running(folder) as run:
        if "first" in wanted:  # before anything else has warmed the stack
            print(f"a registration on a stack just ready: {await figures.first_event(run):.2f} s")
        print(f"roster of {members:,}: {await import_roster(run, members, 400_000):.1f} s")
        ids = await figures.member_ids(run, 2000)
        await quiet(run)
        for name in wanted:
            if name == "decisions":
                print(await figures.decisions(run, ids))
            elif name == "reads":
                reads = await figures.ledger_reads(run, ids)
                for n, ledger in reads.ledger.items():
                    print(
                        f"ledger, {n} connections: {ledger.per_second:,.0f} req/s, "
                        f"p99 {ledger.p99_ms:.1f} ms; /healthz {reads.healthz[n].per_second:,.0f}"
                    )
                print(
                    f"ledger at 1,000 req/s offered: {reads.paced.per_second:,.0f} req/s, "
                    f"p99 {reads.paced.p99_ms:.1f} ms"
                )
            elif name == "batch":
                batch = await figures.batch(run, members, "quick-holiday")
                print(f"batch: {batch.seconds:.1f} s, {members / batch.seconds:,.0f} lines/s")
            elif name == "overload":
                healthz = await load.closed_loop(
                    run.url("entitlements"), lambda i: "/healthz", {}, connections=32, seconds=5
                )
                o = await figures.overload(run, ids, concurrent=concurrent)
                print(
                    f"overload, {o.sent} checks at once: {o.answered} answered "
                    f"(p99 {o.answered_p99_ms:,.0f} ms), {o.refused} refused 503 "
                    f"(p50 {o.refused_p50_ms:,.0f} ms, p99 {o.refused_p99_ms:,.0f} ms), "
                    f"other {o.other}; /healthz {healthz.per_second:,.0f} req/s"
                )
            elif name == "resend":
                marked, seconds = await figures.behind_a_resend(run)
                print(f"a registration behind {marked:,} rows sent again: {seconds:.2f} s")
            elif name == "rebuild":
                events, rate = await figures.rebuild_rate(run)
                print(f"rebuild: {events:,} events at {rate:,.0f} events/s")
            await quiet(run)
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("figures", nargs="+", choices=FIGURES)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--concurrent", type=int, default=500, help="overload: checks at once")
    args = parser.parse_args()
    asyncio.run(measure(args.members, args.figures, args.concurrent))


if __name__ == "__main__":
    main()
