from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import httpx
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from jinhui.inprocess import RunningService, running_service
from jinhui.localstack import Stack
from services.members.domain.identity import compose_id_number
from shared.auth import Role
from shared.clock import FixedClock
from shared.db.engine import create_engine, create_sessions, ensure_database, with_database
from shared.events import DomainEvent
from shared.eventstore.tables import EventStoreTables, event_store_tables
from shared.kafka.topics import Topic, dlq, ensure_topics
from tests.support import bearer

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


UNION = "shanxi/taiyuan/xiaodian/bu-0001"
_SEQUENCE = itertools.count(1)
HR = bearer(Role.HR_INTEGRATION, org=UNION)
OFFICER = bearer(Role.FINANCE_OFFICER, org=UNION)


@dataclass
class Suite:
    """Members and entitlements running in-process on the real stack, on one fixed clock."""

    members: RunningService
    entitlements: RunningService
    disbursements: RunningService
    clock: FixedClock

    @staticmethod
    def new_member(**overrides: object) -> dict[str, object]:
        """A valid registration; the ID number is new each time and matches the birth date."""
        born = date.fromisoformat(str(overrides.get("birth_date", "1990-03-07")))
        return {
            "base_union": UNION,
            "name": "王芳",
            "id_number": compose_id_number("140105", born, next(_SEQUENCE)),
            "birth_date": born.isoformat(),
            "join_date": "2015-07-01",
            **overrides,
        }

    async def ledger(
        self, member_id: str, headers: dict[str, str] = OFFICER, year: int = 2026
    ) -> httpx.Response | None:
        response = await self.entitlements.client.get(
            f"/v1/members/{member_id}/ledgers/{year}", headers=headers
        )
        return response if response.status_code == 200 else None


async def register(
    suite: Suite, *, headers: dict[str, str] | None = None, **overrides: object
) -> str:
    response = await suite.members.client.post(
        "/v1/members", json=suite.new_member(**overrides), headers=headers or HR
    )
    assert response.status_code == 201, response.text
    return str(response.json()["member_id"])


@pytest.fixture(scope="session")
async def suite(stack: Stack) -> AsyncIterator[Suite]:
    clock = FixedClock()
    clock.set_business_date(date(2026, 3, 1))
    async with (
        running_service("members", stack, clock) as members,
        running_service("entitlements", stack, clock) as entitlements,
        running_service("disbursements", stack, clock) as disbursements,
    ):
        finances = await entitlements.client.put(
            f"/v1/unions/{UNION}/finances/2026",
            json={
                "dues_income_fen": 1_000_000,
                "budget_fen": 50_000_000,
                "consumption_share_fen": 5_000_000,
            },
            headers=OFFICER,
        )
        assert finances.status_code == 200, finances.text
        yield Suite(members, entitlements, disbursements, clock)


@pytest.fixture
async def hardship(stack: Stack) -> AsyncIterator[tuple[RunningService, FixedClock]]:
    """The hardship service on the real stack, on its own clock (1 March 2026)."""
    clock = FixedClock()
    clock.set_business_date(date(2026, 3, 1))
    async with running_service("hardship", stack, clock) as svc:
        yield svc, clock
