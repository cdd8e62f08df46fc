"""A runner's constructor arguments, in three groups: what it reads, with what, and how."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.eventstore.store import EventStore
from shared.eventstore.tables import EventStoreTables
from shared.kafka.consumer.messages import BulkHandler, Handler


@dataclass(frozen=True)
class Subscription:
    """A consumer group: which topics it reads and which event types it handles."""

    group_id: str
    topics: list[str]
    handlers: Mapping[str, Handler]
    # Optional: the same work for consecutive messages of one type at once (see BulkHandler).
    bulk_handlers: Mapping[str, BulkHandler] = field(default_factory=dict)
    # Types deliberately not handled; None: every other type known on these topics.
    ignores: frozenset[str] | None = None
    # Encrypts dead letters' values, for topics whose messages may hold personal data.
    dlq_seal: Callable[[bytes], bytes] | None = None


@dataclass(frozen=True)
class ConsumerIO:
    """What a runner works with: the service's database, event store and broker."""

    sessions: async_sessionmaker[AsyncSession]
    tables: EventStoreTables
    store_factory: Callable[[AsyncSession], EventStore]
    bootstrap_servers: str
    dlq_producer: AIOKafkaProducer
    connection: Mapping[str, Any] = field(default_factory=dict)  # TLS/SASL settings
    after_commit: Callable[[], None] = lambda: None  # e.g. wake the outbox relay


@dataclass(frozen=True)
class ConsumerSettings:
    """How a runner consumes: group timing, retries and how much goes into one transaction."""

    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    max_attempts: int = 5
    max_records: int = 200
    chunk_size: int = 50
    fetch_max_wait_ms: int = 20  # see `ServiceSettings.kafka_fetch_max_wait_ms`
    idle_fetch_max_wait_ms: int = 100  # see `ServiceSettings.kafka_idle_fetch_max_wait_ms`
