from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.clock import FixedClock
from shared.db.engine import create_engine, create_sessions, ensure_database, with_database
from shared.events import DomainEvent
from shared.eventstore.tables import EventStoreTables, event_store_tables
from shared.kafka.topics import Topic, dlq, ensure_topics
from shared.localstack import Stack

RELAY_TOPIC = "test.relay.v1"
CONSUMER_TOPIC = "test.consumer.v1"

metadata = MetaData()
infra_tables = event_store_tables(metadata)
effects = Table(
    "test_effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(100), nullable=False),
    Column("value", String(100), nullable=False),
)


class Ping(DomainEvent):
    event_type = "jinhui.test.Ping"
    topic = RELAY_TOPIC
    key: str
    n: int


class Job(DomainEvent):
    event_type = "jinhui.test.Job"
    topic = CONSUMER_TOPIC
    value: str


@dataclass
class Infra:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: EventStoreTables
    bootstrap_servers: str
    clock: FixedClock


@pytest.fixture(scope="session")
async def infra(stack: Stack) -> AsyncIterator[Infra]:
    url = with_database(stack.server_url, "jinhui_test_infra")
    await ensure_database(url)
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    await ensure_topics(
        stack.bootstrap_servers,
        [
            Topic(RELAY_TOPIC, 4, "test", "relay tests"),
            Topic(CONSUMER_TOPIC, 4, "test", "consumer tests"),
            Topic(dlq(CONSUMER_TOPIC), 1, "test", "consumer tests dead letters"),
        ],
    )
    yield Infra(
        engine, create_sessions(engine), infra_tables, stack.bootstrap_servers, FixedClock()
    )
    await engine.dispose()
