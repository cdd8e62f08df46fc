"""The raw limits of this machine's parts, measured in the same run as the figures they
bound: PostgreSQL rows/s (executemany in 500-row transactions, COPY, one row per autocommit
transaction from several connections) and one Kafka round trip through the broker."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.kafka.topics import Topic, ensure_topics

_TABLE = "bench_raw_rows"
_ROW = json.dumps({"member_id": "m-0123456789", "amount_fen": 30000, "benefit": "holiday_gift"})


def _rows(n: int) -> list[tuple[str, int, str]]:
    """Rows shaped like the event store's: a stream id, a version, a JSON body."""
    return [(f"ledger-m-{i:010d}-2026", i, _ROW) for i in range(n)]


async def _fresh(conn: asyncpg.Connection) -> None:
    await conn.execute(f"DROP TABLE IF EXISTS {_TABLE}")
    await conn.execute(
        f"CREATE TABLE {_TABLE} (position bigserial PRIMARY KEY, stream_id text NOT NULL, "
        "version int NOT NULL, data jsonb NOT NULL, UNIQUE (stream_id, version))"
    )


async def postgres(dsn: str, rows: int = 100_000, connections: int = 8) -> dict[str, float]:
    """rows/s three ways, and single-row transactions/s."""
    conn = await asyncpg.connect(dsn)
    try:
        await _fresh(conn)
        data = _rows(rows)
        started = time.perf_counter()
        for i in range(0, rows, 500):
            async with conn.transaction():
                await conn.executemany(
                    f"INSERT INTO {_TABLE} (stream_id, version, data) VALUES ($1, $2, $3::jsonb)",
                    data[i : i + 500],
                )
        executemany = rows / (time.perf_counter() - started)
        await _fresh(conn)
        started = time.perf_counter()
        await conn.copy_records_to_table(
            _TABLE, records=data, columns=["stream_id", "version", "data"]
        )
        copy = rows / (time.perf_counter() - started)
        await _fresh(conn)
    finally:
        await conn.close()
    single = await _single_row_transactions(dsn, connections, seconds=3)
    return {"executemany": executemany, "copy": copy, "single_tx": single}


async def _single_row_transactions(dsn: str, connections: int, seconds: float) -> float:
    pool = await asyncpg.create_pool(dsn, min_size=connections, max_size=connections)
    assert pool is not None
    done = 0
    deadline = time.perf_counter() + seconds

    async def writer(w: int) -> None:
        nonlocal done
        async with pool.acquire() as conn:
            i = 0
            while time.perf_counter() < deadline:
                await conn.execute(
                    f"INSERT INTO {_TABLE} (stream_id, version, data) VALUES ($1, $2, $3::jsonb)",
                    f"w{w}",
                    i,
                    _ROW,
                )
                i += 1
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(connections)))
    rate = done / (time.perf_counter() - started)
    async with pool.acquire() as conn:
        await conn.execute(f"DROP TABLE IF EXISTS {_TABLE}")
    await pool.close()
    return rate


async def kafka_round_trip_ms(bootstrap: str, fetch_max_wait_ms: int, trips: int = 100) -> float:
    """Median of send (acks=all) → received by a consumer already polling, one at a time, with
    the fetch wait the services use (Tansu answers a fetch only when its wait is over)."""
    topic = f"bench.round-trip.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [Topic(topic, 1, "bench", "")])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="latest",
        fetch_max_wait_ms=fetch_max_wait_ms,
    )
    await producer.start()
    await consumer.start()
    try:
        await consumer.seek_to_end()
        times = []
        for i in range(trips):
            value = str(i).encode()
            started = time.perf_counter()
            await (await producer.send(topic, value=value))
            while not any(
                r.value == value
                for records in (await consumer.getmany(timeout_ms=1000)).values()
                for r in records
            ):
                pass
            times.append(time.perf_counter() - started)
            await asyncio.sleep(0.003 * (i % 7))  # not in step with the broker's fetch waits
        return statistics.median(times) * 1000
    finally:
        await consumer.stop()
        await producer.stop()
