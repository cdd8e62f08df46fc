"""A service's running parts, built by its `bootstrap()` and started in the FastAPI lifespan.

Nothing connects at import time or in `bootstrap()`: `start()` connects, with back-off if the
broker is not up yet, and `/readyz` says so until it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.backoff import Backoff
from shared.clock import Clock
from shared.db.engine import create_engine, create_sessions
from shared.eventstore.relay import OutboxRelay
from shared.eventstore.retention import keep_pruning
from shared.eventstore.store import EventStore
from shared.eventstore.tables import EventStoreTables
from shared.kafka.consumer import (
    ConsumerIO,
    ConsumerRunner,
    ConsumerSettings,
    Subscription,
)
from shared.kafka.producer import make_producer, security
from shared.kafka.read_through import ReadThrough
from shared.kafka.topics import TOPICS, Replication, keep_topics, marker_topic, topics_of
from shared.loop_lag import LoopLag, silent_verdict
from shared.settings import ServiceSettings
from shared.supervisor import Supervisor
from shared.tasks import stop
from shared.telemetry import configure_logging, configure_tracing, instrument_engine

log = logging.getLogger(__name__)


# How long the database may leave readiness probes unanswered before it counts as unavailable.
DATABASE_SILENCE_S = 10.0
# How long the broker may, while this process's loop runs late (`shared.loop_lag`).
BROKER_SILENCE_S = 10.0


@dataclass
class Runtime:
    service: str
    settings: ServiceSettings
    clock: Clock
    tables: EventStoreTables
    engine: AsyncEngine
    probe_engine: AsyncEngine  # one connection for /readyz, beside the requests' pool
    sessions: async_sessionmaker[AsyncSession]
    producer: AIOKafkaProducer
    relay: OutboxRelay
    consumers: list[ConsumerRunner] = field(default_factory=list)
    extra_workers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    context: Any = None  # the service's own handler context (policies, settings of its domain)
    on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    services: dict[str, Any] = field(default_factory=dict)  # named parts (schedulers) for tools
    supervisor: Supervisor = field(default_factory=lambda: Supervisor("jinhui"))
    _producer_ready: asyncio.Event = field(default_factory=asyncio.Event)
    read_through: ReadThrough = field(init=False)
    # Sessions for reads that need no transaction: each statement its own snapshot, with none
    # of a transaction's BEGIN and ROLLBACK round trips (a hot read is one round trip).
    reads: async_sessionmaker[AsyncSession] = field(init=False)
    _database_answered_at: float = float("-inf")
    _broker_answered_at: float = float("-inf")
    loop_lag: LoopLag = field(default_factory=LoopLag)

    def __post_init__(self) -> None:
        self.reads = create_sessions(self.engine.execution_options(isolation_level="AUTOCOMMIT"))
        self.read_through = ReadThrough(
            service=self.service,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            topics=[t.name for t in TOPICS if t.owner == self.service],
            marker=marker_topic(self.service).name,
            clock=self._database_time,
            interval_s=self.settings.kafka_read_through_interval_s,
            connection=security(self.settings),
        )

    async def _database_time(self) -> datetime:
        async with self.sessions() as session:
            return cast(datetime, await session.scalar(text("SELECT clock_timestamp()")))

    def event_store(self, session: AsyncSession) -> EventStore:
        return EventStore(session, self.tables, source=f"/jinhui/{self.service}", clock=self.clock)

    async def start(self) -> None:
        """Every long-running part runs under the supervisor: restarted after any error."""
        for hook in self.on_start:
            await hook()
        s = self.supervisor
        s.start(f"{self.service}-producer", self._connect_producer, once=True)
        s.start(f"{self.service}-loop-lag", self.loop_lag.run, traced=False)
        if not self.settings.run_background_workers:
            return
        s.start(
            f"{self.service}-topics",
            lambda: keep_topics(
                self.service,
                self.settings.kafka_bootstrap_servers,
                topics_of(self.service, [t for c in self.consumers for t in c.topics]),
                self.settings.kafka_topic_check_interval_s,
                self._after_broker_emptied,
                security(self.settings),
                Replication(
                    self.settings.kafka_replication_factor, self.settings.kafka_min_insync_replicas
                ),
            ),
        )
        self.relay.health = s.handle(f"{self.service}-relay")
        s.start(f"{self.service}-relay", lambda: self._after_producer(self.relay.run))
        for consumer in self.consumers:
            consumer.health = s.handle(consumer.group_id)
            s.start(consumer.group_id, functools.partial(self._after_producer, consumer.run))
        s.start(
            f"{self.service}-retention",
            traced=False,
            work=lambda: keep_pruning(
                self.sessions,
                self.tables,
                timedelta(days=self.settings.retention_days),
                self.settings.retention_check_interval_s,
            ),
        )
        s.start(f"{self.service}-read-through", self.read_through.run, traced=False)
        for n, worker in enumerate(self.extra_workers):
            s.start(f"{self.service}-worker-{n}", worker, traced=False)

    async def _after_broker_emptied(self) -> None:
        """The broker lost its data: send again the recent rows some reader had not read
        (`shared.kafka.read_through`), and read every topic again — and
        once more when the group has settled, for what moved while consumers rejoined (a commit
        at a stale position can land on the new broker; the second reading finds what it
        skipped, and de-duplication makes it harmless).

        The producer is made to read the topics' partitions anew first: a broker that came back
        empty may have created a topic on a client's first request with its own partition
        count, and a producer still sending to partitions that no longer exist can be answered
        "stored" by a broker that keeps nothing of them."""
        read_through = dict(self.read_through.through)  # what every reader had, before
        self.read_through.forget_sightings()
        window = self.settings.kafka_republish_window_s
        if not any(c.assigned.is_set() for c in self.consumers):
            # No consumer has read a partition yet (a fresh broker, or this process has just
            # started): there are no positions to distrust, so nothing to read again.
            await self._refresh_producer_metadata()
            await self.relay.republish(window, read_through)
            return
        for attempt in range(2):
            if attempt:
                await asyncio.sleep(self.settings.kafka_rewind_settle_s)
            await self._refresh_producer_metadata()
            for consumer in self.consumers:
                consumer.rewind()
            await self.relay.republish(window, read_through)

    async def _refresh_producer_metadata(self) -> None:
        if not self._producer_ready.is_set():
            return
        try:
            await asyncio.wait_for(self.producer.client.force_metadata_update(), 10)
        except (TimeoutError, KafkaError) as exc:
            log.warning("could not read the partitions anew", extra={"error": type(exc).__name__})

    async def _connect_producer(self) -> None:
        if self._producer_ready.is_set():
            return
        backoff = Backoff(initial_s=0.2)
        while True:
            try:
                await self.producer.start()
                self._producer_ready.set()
                return
            except KafkaError as exc:
                delay = backoff.next_delay()
                log.warning(
                    "broker not reachable yet",
                    extra={"error": type(exc).__name__, "retry_in_s": delay},
                )
                await asyncio.sleep(delay)

    async def _after_producer(self, work: Callable[[], Awaitable[None]]) -> None:
        await self._producer_ready.wait()
        await work()

    async def stop(self, grace_s: float = 10.0) -> None:
        """Cancel the workers and give them `grace_s` to finish (a consumer leaving its group
        talks to the broker); then close the producer and the pool whatever happened. Work
        that did not finish is redelivered, never lost: offsets are committed only after it."""
        tasks = self.supervisor.tasks
        self.supervisor.stop_grace_s = grace_s
        for consumer in self.consumers:
            consumer.close()
        ended = await asyncio.gather(*(stop(task, grace_s) for task in tasks))
        for task, done in zip(tasks, ended, strict=True):
            if not done:
                log.warning("worker did not stop in time", extra={"worker": task.get_name()})
        self.supervisor.forget()
        if self._producer_ready.is_set():
            with contextlib.suppress(TimeoutError, KafkaError):
                await asyncio.wait_for(self.producer.stop(), grace_s)
        await self.engine.dispose()
        await self.probe_engine.dispose()

    async def readiness(self) -> dict[str, str]:
        """Answered in milliseconds under any load: the database is asked over a pool of its
        own (requests queueing in the main pool are not an outage), and only consumers that
        hold their partitions and have read what was there when they got them count as ready."""
        checks: dict[str, str] = {}
        checks["database"] = await self._database_check()
        checks["broker"] = await self._broker_check()
        if self.settings.run_background_workers and self.consumers:
            behind = [c.group_id for c in self.consumers if not c.caught_up.is_set()]
            checks["consumers"] = "ok" if not behind else "catching up: " + ", ".join(behind)
        problems = self.supervisor.problems()
        checks["background_tasks"] = (
            "ok" if not problems else "; ".join(f"{k}: {v}" for k, v in sorted(problems.items()))
        )
        return checks

    async def _database_check(self) -> str:
        """A probe that times out while the process is busy (its event loop serving a burst of
        requests) is not an outage: a silent database counts as unavailable once no probe has
        been answered for `DATABASE_SILENCE_S`; one that refuses or drops the connection, at
        once. A burst does not take the pod out of service, and an outage still turns readiness
        red within seconds."""
        try:
            await asyncio.wait_for(self._select_one(), 2)
        except TimeoutError:
            silent_for = time.monotonic() - self._database_answered_at
            if silent_for < DATABASE_SILENCE_S:
                return f"ok (busy: last answered {silent_for:.0f} s ago)"
            return "unavailable (TimeoutError)"
        except Exception as exc:  # refused, reset, shutting down: an outage, said at once
            return f"unavailable ({type(exc).__name__})"
        self._database_answered_at = time.monotonic()
        return "ok"

    async def _select_one(self) -> None:
        async with self.probe_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def _broker_check(self) -> str:
        """A metadata request unanswered in 2 s is a broker outage, said at once — unless this
        process's own loop ran late meanwhile (starved of CPU: the answer may be waiting to be
        read), and then only once the broker has been silent `BROKER_SILENCE_S`. A frozen broker
        beside a loop that runs on time turns readiness red within seconds."""
        if not self._producer_ready.is_set():
            return "unavailable (not connected yet)"
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), 2)
        except TimeoutError:
            silent_for = time.monotonic() - self._broker_answered_at
            starved = self.loop_lag.starved(within_s=5)
            return silent_verdict(silent_for, BROKER_SILENCE_S, starved)
        except Exception as exc:
            return f"unavailable ({type(exc).__name__})"
        self._broker_answered_at = time.monotonic()
        return "ok"


# Long on purpose: the one place a service's parts are wired, in the order they start.
def build_runtime(
    *,
    service: str,
    settings: ServiceSettings,
    clock: Clock,
    tables: EventStoreTables,
    subscriptions: Sequence[Subscription] = (),
) -> Runtime:
    if settings.log_json:
        configure_logging(service, settings.log_level)
    configure_tracing(service, settings.otel_exporter_otlp_endpoint, slow_ms=settings.trace_slow_ms)
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        overflow=settings.db_pool_overflow,
        pool_timeout_s=settings.db_pool_timeout_s,
    )
    instrument_engine(engine)
    sessions = create_sessions(engine)
    producer = make_producer(
        settings.kafka_bootstrap_servers, client_id=f"jinhui-{service}", settings=settings
    )
    relay = OutboxRelay(
        service=service,
        sessions=sessions,
        tables=tables,
        producer=producer,
        batch_size=settings.outbox_batch_size,
        poll_interval_s=settings.outbox_poll_interval_s,
    )
    runtime = Runtime(
        service=service,
        settings=settings,
        clock=clock,
        tables=tables,
        engine=engine,
        probe_engine=create_engine(settings.database_url, pool_size=1, pool_timeout_s=1.0),
        sessions=sessions,
        producer=producer,
        relay=relay,
        supervisor=Supervisor(service, settings.unhealthy_after_s),
    )
    io = ConsumerIO(
        sessions=sessions,
        tables=tables,
        store_factory=runtime.event_store,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        dlq_producer=producer,
        connection=security(settings),
        after_commit=relay.wake,
    )
    consuming = ConsumerSettings(
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        chunk_size=settings.kafka_consumer_chunk_size,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        idle_fetch_max_wait_ms=settings.kafka_idle_fetch_max_wait_ms,
    )
    runtime.consumers = [ConsumerRunner(s, io, consuming) for s in subscriptions]
    return runtime


def runtime_lifespan(
    build: Callable[[], Runtime],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The FastAPI lifespan: bootstrap, start, serve, stop."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build()
        app.state.runtime = runtime
        app.state.settings = runtime.settings
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    return lifespan
