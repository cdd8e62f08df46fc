"""An event store in memory, with the PostgreSQL store's behaviour: numbered streams, the version
check, positions in commit order, outbox rows for events that leave the service.

For fast tests of aggregates and handlers that need streams but no database: the same
contract suite (`tests/eventstore_contract.py`) runs against this store and the real one, so a
test that passes here asserts what the real store does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shared.clock import Clock
from shared.errors import ConcurrencyConflict
from shared.events import load_event
from shared.eventstore.store import RecordedEvent, StoredEvent, StreamAppend


@dataclass(frozen=True)
class OutboxRow:
    event_id: uuid.UUID
    topic: str
    key: str | None
    event_type: str


@dataclass
class InMemoryEventStore:
    clock: Clock
    events: list[StoredEvent] = field(default_factory=list)
    outbox: list[OutboxRow] = field(default_factory=list)

    async def append_many(self, appends: Sequence[StreamAppend]) -> list[RecordedEvent]:
        """All or nothing, as one transaction: a stale version anywhere appends nothing."""
        for a in appends:
            if await self.current_version(a.stream_id) != a.expected_version:
                raise ConcurrencyConflict(
                    f"stream {a.stream_id} is no longer at the version it was read at",
                    stream=a.stream_id,
                )
        now = self.clock.now()
        recorded = []
        for a in appends:
            for i, event in enumerate(a.events, start=1):
                # Stored as the database stores it: serialised and read back.
                copy = load_event(event.event_type, event.to_data())
                r = RecordedEvent(uuid.uuid4(), a.stream_id, a.expected_version + i, copy)
                self.events.append(
                    StoredEvent(
                        position=len(self.events) + 1,
                        event_id=r.event_id,
                        stream_id=r.stream_id,
                        version=r.version,
                        event=copy,
                        metadata=dict(a.metadata or {}),
                        recorded_at=now,
                    )
                )
                if event.topic:
                    self.outbox.append(
                        OutboxRow(r.event_id, event.topic, a.partition_key, event.event_type)
                    )
                recorded.append(r)
        return recorded

    async def lock(self, stream_id: str) -> None:
        """Nothing to wait for: one task at a time changes memory between awaits."""

    async def lock_many(self, stream_ids: Sequence[str]) -> None:
        """As `lock`."""

    async def load(self, stream_id: str, *, up_to: datetime | None = None) -> list[StoredEvent]:
        return [
            e
            for e in self.events
            if e.stream_id == stream_id and (up_to is None or e.recorded_at <= up_to)
        ]

    async def load_many(self, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
        return {s: await self.load(s) for s in stream_ids}

    async def current_version(self, stream_id: str) -> int:
        return max((e.version for e in self.events if e.stream_id == stream_id), default=0)

    async def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        return [e for e in self.events if e.position > after_position][:limit]
