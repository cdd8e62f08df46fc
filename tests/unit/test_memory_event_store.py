"""The event store in memory keeps the event-store contract."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.clock import FixedClock
from shared.eventstore.memory import InMemoryEventStore
from shared.eventstore.store import Streams
from tests.eventstore_contract import EventStoreContract


class TestInMemoryEventStore(EventStoreContract):
    def setup_method(self) -> None:
        self.clock = FixedClock()
        self.store = InMemoryEventStore(self.clock)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Streams]:
        yield self.store

    async def published(self, store: Streams, ids: list[uuid.UUID]) -> set[uuid.UUID]:
        assert isinstance(store, InMemoryEventStore)
        return {row.event_id for row in store.outbox} & set(ids)
