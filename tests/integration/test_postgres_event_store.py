"""The event store on PostgreSQL keeps the event-store contract (the same suite the store in
memory passes), on the test database's own event-store tables."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select, update

from shared.clock import FixedClock
from shared.eventstore.store import EventStore, Streams
from tests.eventstore_contract import EventStoreContract
from tests.integration.conftest import Infra


class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture(autouse=True)
    def _infra(self, infra: Infra) -> None:
        self.infra = infra
        self.clock = FixedClock()  # its own: moving it must not move other tests' clock

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Streams]:
        """One database transaction; the contract's events are never sent (their outbox rows
        are marked published before it commits), so no relay test sees them."""
        t = self.infra.tables
        async with self.infra.sessions() as session, session.begin():
            yield EventStore(session, t, source="/jinhui/contract", clock=self.clock)
            await session.execute(
                update(t.outbox)
                .where(t.outbox.c.headers["ce_type"].astext.like("jinhui.contract.%"))
                .where(t.outbox.c.published_at.is_(None))
                .values(published_at=self.clock.now())
            )

    async def published(self, store: Streams, ids: list[uuid.UUID]) -> set[uuid.UUID]:
        assert isinstance(store, EventStore)
        t = self.infra.tables
        rows = await store.session.scalars(
            select(t.outbox.c.event_id).where(t.outbox.c.event_id.in_(ids))
        )
        return set(rows)
