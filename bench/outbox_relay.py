"""Throughput of the shared event path on the real local stack: append (event store + outbox),
relay to Kafka, and consume with the idempotent consumer runner. Prints events per second.

    .venv/bin/python bench/outbox_relay.py [--events 5000] [--writers 8]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import MetaData, func, select

from jinhui.localstack import Stack
from shared.clock import SystemClock
from shared.db.engine import create_engine, create_sessions, ensure_database, with_database
from shared.events import DomainEvent
from shared.eventstore.relay import OutboxRelay
from shared.eventstore.store import EventStore
from shared.eventstore.tables import event_store_tables
from shared.kafka.consumer import ConsumerRunner, HandlerContext, InboundMessage
from shared.kafka.producer import make_producer
from shared.kafka.topics import Topic, dlq, ensure_topics

TOPIC = "bench.events.v1"


class BenchEvent(DomainEvent):
    event_type = "jinhui.bench.BenchEvent"
    topic = TOPIC
    member_id: str
    amount_fen: int


async def main(events: int, writers: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="jinhui-bench-"))
    stack = Stack.start(folder, database_prefix="jinhui_bench")
    try:
        url = with_database(stack.server_url, "jinhui_bench_path")
        await ensure_database(url)
        metadata = MetaData()
        tables = event_store_tables(metadata)
        engine = create_engine(url, pool_size=writers + 2)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.run_sync(metadata.create_all)
        await ensure_topics(
            stack.bootstrap_servers,
            [Topic(TOPIC, 8, "bench", ""), Topic(dlq(TOPIC), 1, "bench", "")],
        )
        sessions = create_sessions(engine)
        clock = SystemClock()

        async def writer(w: int) -> None:
            for i in range(w, events, writers):
                async with sessions() as s, s.begin():
                    store = EventStore(s, tables, source="/bench", clock=clock)
                    member = f"m-{i % 1000}"
                    await store.append(
                        f"bench-{uuid.uuid4()}",
                        0,
                        [BenchEvent(member_id=member, amount_fen=100)],
                        partition_key=member,
                    )

        started = time.perf_counter()
        await asyncio.gather(*(writer(w) for w in range(writers)))
        append_s = time.perf_counter() - started

        producer = make_producer(stack.bootstrap_servers, "bench")
        await producer.start()
        relay = OutboxRelay(service="bench", sessions=sessions, tables=tables, producer=producer)
        started = time.perf_counter()
        while await relay.publish_once():
            pass
        relay_s = time.perf_counter() - started

        seen = 0
        done = asyncio.Event()

        async def handle(ctx: HandlerContext, message: InboundMessage) -> None:
            nonlocal seen
            seen += 1
            if seen >= events:
                done.set()

        runner = ConsumerRunner(
            group_id=f"bench-{uuid.uuid4()}",
            topics=[TOPIC],
            handlers={BenchEvent.event_type: handle},
            sessions=sessions,
            tables=tables,
            store_factory=lambda s: EventStore(s, tables, source="/bench", clock=clock),
            bootstrap_servers=stack.bootstrap_servers,
            dlq_producer=producer,
            session_timeout_ms=6000,
        )
        task = asyncio.create_task(runner.run())
        await runner.assigned.wait()
        started = time.perf_counter()
        await asyncio.wait_for(done.wait(), 600)
        consume_s = time.perf_counter() - started
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
        async with sessions() as s:
            processed = await s.scalar(select(func.count()).select_from(tables.processed_messages))
        await engine.dispose()
        rows = [
            (f"append (event store + outbox, {writers} writers, 1 event/tx)", events / append_s),
            ("outbox relay to Kafka (acks=all)", events / relay_s),
            ("consumer runner (up to 50 messages a transaction)", events / consume_s),
        ]
        print(f"jinhui event path benchmark, {datetime.now(UTC):%Y-%m-%d}, {events} events")
        for label, rate in rows:
            print(f"{label:<58} {rate:8.0f} events/s")
        print(f"processed-message records: {processed}")
    finally:
        stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.writers))
