"""Each figure of the performance targets, measured on a running stack (`bench.stack`)."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import import_module

import orjson
from sqlalchemy import MetaData, select

from bench import load
from bench.roster import UNION
from bench.stack import Running, token
from jinhui.localstack import SERVICES
from services.disbursements.adapters.tables import member_directory
from services.entitlements.adapters.tables import event_tables
from services.entitlements.service_layer.replay import rebuild
from services.members.domain.identity import compose_id_number
from shared.auth import Role
from shared.clock import SystemClock, business_date
from shared.db.engine import create_engine, create_sessions, ensure_database, with_database
from shared.events import DomainEvent
from shared.eventstore.relay import mark_for_republishing
from shared.eventstore.store import EventStore
from shared.eventstore.tables import event_store_tables

FINAL = {"issued", "rejected", "cancelled"}


async def first_event(run: Running) -> float:
    """Seconds from a registration on a stack whose services have just said they are ready
    until entitlements knows the member (its ledger answers), as a new user tries it."""
    body = {
        "base_union": UNION,
        "name": "王芳",
        "id_number": compose_id_number("140106", date(1990, 3, 7), 1),
        "birth_date": "1990-03-07",
        "join_date": "2015-07-01",
    }
    year = business_date(SystemClock()).year
    async with run.client("members") as members, run.client("entitlements") as entitlements:
        started = time.monotonic()
        made = await members.post("/v1/members", json=body, headers=token(Role.HR_INTEGRATION))
        assert made.status_code == 201, made.text
        ledger = f"/v1/members/{made.json()['member_id']}/ledgers/{year}"
        officer = token(Role.FINANCE_OFFICER)
        while (await entitlements.get(ledger, headers=officer)).status_code != 200:
            if time.monotonic() - started > 300:
                raise TimeoutError("a registration was not known downstream in 300 s")
            await asyncio.sleep(0.02)
        return time.monotonic() - started


async def behind_a_resend(run: Running) -> tuple[int, float]:
    """Every service sends again what it sent in the last hour, as after a broker that came
    back empty; then a new registration is timed to entitlements (`first_event`). Returns the
    rows marked and the seconds."""
    marked = 0
    for service in SERVICES:
        tables = import_module(f"services.{service}.adapters.tables").event_tables
        engine = create_engine(run.stack.database_urls[service])
        marked += await mark_for_republishing(
            service, create_sessions(engine), tables, timedelta(hours=1)
        )
        await engine.dispose()
    return marked, await first_event(run)


async def member_ids(run: Running, n: int) -> list[str]:
    engine = create_engine(run.stack.database_urls["disbursements"])
    async with engine.connect() as conn:
        ids = (
            await conn.scalars(
                select(member_directory.c.member_id).order_by(member_directory.c.member_id).limit(n)
            )
        ).all()
    await engine.dispose()
    return list(ids)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _one_decision(c: load.Connection, member_id: str) -> float:
    """Seconds from the request to the disbursement's final status (decided and issued)."""
    started = time.perf_counter()
    body = orjson.dumps(
        {
            "member_id": member_id,
            "benefit": "holiday_gift",
            "amount_fen": 100,
            "business_date": business_date(SystemClock()).isoformat(),
        }
    )
    key = {"Idempotency-Key": uuid.uuid4().hex}
    status, answer = await c.request("POST", "/v1/disbursements", body, key)
    if status >= 400:
        raise RuntimeError(f"POST /v1/disbursements answered {status}: {answer[:200]!r}")
    found = orjson.loads(answer)
    url = f"/v1/disbursements/{found['disbursement_id']}?wait=10"
    while found["status"] not in FINAL:
        status, answer = await c.request("GET", url)
        if status >= 400:
            raise RuntimeError(f"GET {url} answered {status}")
        found = orjson.loads(answer)
    return time.perf_counter() - started


@dataclass(frozen=True)
class Decisions:
    one_p50_ms: float
    one_p99_ms: float
    parallel_per_s: float
    parallel_p99_ms: float
    callers: int


async def decisions(
    run: Running,
    ids: list[str],
    *,
    one_at_a_time: int = 200,
    callers: int = 20,
    seconds: float = 15,
) -> Decisions:
    """P3: request → final status, one at a time, then from `callers` at once, each caller on
    a keep-alive connection of the bench's own client, which costs little beside the services."""
    connections = load.pool(run.urls("disbursements"), token(Role.FINANCE_OFFICER), callers)
    await _one_decision(connections[0], ids[0])  # warm
    single = [await _one_decision(connections[0], ids[i % len(ids)]) for i in range(one_at_a_time)]
    latencies, elapsed = await load.callers(
        connections, lambda c, i: _one_decision(c, ids[i % len(ids)]), seconds
    )
    run.sample_rss()
    return Decisions(
        statistics.median(single) * 1000,
        _percentile(single, 0.99) * 1000,
        len(latencies) / elapsed,
        _percentile(latencies, 0.99) * 1000,
        callers,
    )


@dataclass(frozen=True)
class Overload:
    sent: int
    answered: int  # 200
    refused: int  # 503 with Retry-After
    other: dict[int, int]
    answered_p99_ms: float
    refused_p50_ms: float
    refused_p99_ms: float


async def overload(run: Running, ids: list[str], *, concurrent: int = 500) -> Overload:
    """`concurrent` checks sent at once, each on a connection of its own, to entitlements: how
    many are answered, how many refused (503), and how soon a refusal comes. A refused caller
    should hear so within about a second (the pool's wait), not after its neighbours' work."""
    connections = load.pool(run.url("entitlements"), token(Role.FINANCE_OFFICER), concurrent)
    today = business_date(SystemClock()).isoformat()

    async def one(n: int) -> tuple[int, float]:
        body = orjson.dumps(
            {"member_id": ids[n % len(ids)], "benefit": "holiday_gift", "amount_fen": 100,
             "business_date": today}
        )  # fmt: skip
        started = time.perf_counter()
        status, _ = await connections[n].request("POST", "/v1/checks", body)
        return status, time.perf_counter() - started

    answers = await asyncio.gather(*(one(n) for n in range(concurrent)))
    for c in connections:
        c.close()
    answered = [s for status, s in answers if status == 200]
    refused = [s for status, s in answers if status == 503]
    other: dict[int, int] = {}
    for status, _ in answers:
        if status not in (200, 503):
            other[status] = other.get(status, 0) + 1
    return Overload(
        concurrent,
        len(answered),
        len(refused),
        other,
        _percentile(answered, 0.99) * 1000 if answered else 0.0,
        statistics.median(refused) * 1000 if refused else 0.0,
        _percentile(refused, 0.99) * 1000 if refused else 0.0,
    )


@dataclass(frozen=True)
class Reads:
    ledger: dict[int, load.Load]  # by connections
    healthz: dict[int, load.Load]
    paced: load.Load


async def ledger_reads(run: Running, ids: list[str], *, seconds: float = 8) -> Reads:
    """P4: `GET /v1/members/{id}/ledgers/{year}` beside `/healthz` of the same process."""
    headers = token(Role.FINANCE_OFFICER)
    year = business_date(SystemClock()).year
    url = run.urls("entitlements")

    def ledger(i: int) -> str:
        return f"/v1/members/{ids[i % len(ids)]}/ledgers/{year}"

    def healthz(i: int) -> str:
        return "/healthz"

    reads, health = {}, {}
    for connections in (2, 32):
        reads[connections] = await load.closed_loop(
            url, ledger, headers, connections=connections, seconds=seconds
        )
        health[connections] = await load.closed_loop(
            url, healthz, headers, connections=connections, seconds=seconds
        )
    paced = await load.paced(url, ledger, headers, rate=1000, seconds=seconds)
    run.sample_rss()
    return Reads(reads, health, paced)


@dataclass(frozen=True)
class Batch:
    members: int
    seconds: float
    by_status: dict[str, int]


async def batch(run: Running, members: int, key: str) -> Batch:
    """P5: one holiday-gift batch for every member, until every line is decided and issued
    (issued lines are on the payroll topic: the same transaction records both)."""
    finance = token(Role.FINANCE_OFFICER)
    async with run.client("disbursements") as client:
        started = time.perf_counter()
        created = await client.post(
            "/v1/disbursement-batches",
            json={
                "batch_key": key,
                "union": UNION,
                "benefit": "holiday_gift",
                "amount_fen": 30000,
                "business_date": business_date(SystemClock()).isoformat(),
            },
            headers=finance,
        )
        created.raise_for_status()
        url = f"/v1/disbursement-batches/{created.json()['batch_id']}"
        while True:
            report = (await client.get(url, headers=finance)).json()
            done = sum(n for s, n in report["by_status"].items() if s in FINAL)
            run.sample_rss()
            if report["status"] == "submitted" and done >= members:
                break
            # The report sums the few rows its lines' transactions keep (batch_counts), at
            # any size of batch: asking twice a second costs the run nothing.
            await asyncio.sleep(0.5)
    return Batch(members, time.perf_counter() - started, report["by_status"])


async def rebuild_rate(run: Running) -> tuple[int, float]:
    """P2: entitlements' read tables rebuilt from its event store (events, events/s)."""
    engine = create_engine(run.stack.database_urls["entitlements"], pool_size=4)
    try:
        report = await rebuild(engine, create_sessions(engine), event_tables)
    finally:
        await engine.dispose()
    return report.events, report.events_per_second


class BenchEvent(DomainEvent):
    event_type = "jinhui.bench.BenchEvent"
    member_id: str
    amount_fen: int


async def append_rate(run: Running, *, writers: int = 8, seconds: float = 5) -> float:
    """The event store's append (event + outbox row), one event per transaction."""
    url = with_database(run.stack.server_url, "jinhui_bench_append")
    await ensure_database(url)
    metadata = MetaData()
    tables = event_store_tables(metadata)
    engine = create_engine(url, pool_size=writers + 2)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    sessions = create_sessions(engine)
    clock = SystemClock()
    done = 0
    deadline = time.perf_counter() + seconds

    async def writer() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            async with sessions() as s, s.begin():
                store = EventStore(s, tables, source="/bench", clock=clock)
                member = f"m-{done % 1000}"
                event = BenchEvent(member_id=member, amount_fen=100)
                await store.append(f"bench-{uuid.uuid4()}", 0, [event], partition_key=member)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    rate = done / (time.perf_counter() - started)
    await engine.dispose()
    return rate


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
