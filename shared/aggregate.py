"""Event-sourced aggregates: state is the fold of a stream's events; decisions raise new ones."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

from shared.db.sql import Write, run_writes
from shared.errors import NotFound
from shared.events import DomainEvent
from shared.eventstore.store import EventStore, StreamAppend, Streams


class Aggregate:
    """Subclasses implement `apply` (state from one event, no I/O, no checks) and raise events
    through `_record` from their command methods, after checking the rules."""

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        self.version = 0
        self.pending: list[DomainEvent] = []

    def apply(self, event: DomainEvent) -> None:
        raise NotImplementedError

    def replay(self, events: Iterable[DomainEvent]) -> None:
        for event in events:
            self.apply(event)
            self.version += 1

    def _record(self, event: DomainEvent) -> None:
        self.apply(event)
        self.pending.append(event)

    def partition_key(self) -> str:
        return self.stream_id


A = TypeVar("A", bound=Aggregate)
# The read-table writes that saved events need (no I/O): the repository runs them in the
# transaction that saves the events, the writes of many events together.
Projector = Callable[[Sequence[DomainEvent]], Sequence[Write]]


class Repository(Generic[A]):
    """Loads an aggregate by replaying its stream and saves what it decided, expecting the
    version it was loaded at (ConcurrencyConflict if another writer came first)."""

    def __init__(
        self,
        store: Streams,
        factory: type[A],
        prefix: str,
        projector: Projector | None = None,
    ) -> None:
        self._store = store
        self._factory = factory
        self._prefix = prefix
        self._projector = projector

    def stream_id(self, aggregate_id: str) -> str:
        return f"{self._prefix}-{aggregate_id}"

    async def get(
        self, aggregate_id: str, *, for_update: bool = False, as_of: datetime | None = None
    ) -> A | None:
        """`for_update` queues this transaction behind other writers of the same aggregate;
        `as_of` gives the aggregate as it stood at that instant (events recorded by then)."""
        stream_id = self.stream_id(aggregate_id)
        if for_update:
            await self._store.lock(stream_id)
        stored = await self._store.load(stream_id, up_to=as_of)
        if not stored:
            return None
        aggregate = self._factory(stream_id)
        aggregate.replay(s.event for s in stored)
        return aggregate

    async def require(self, aggregate_id: str, what: str) -> A:
        aggregate = await self.get(aggregate_id)
        if aggregate is None:
            raise NotFound(f"no {what} {aggregate_id}")
        return aggregate

    def new(self, aggregate_id: str) -> A:
        return self._factory(self.stream_id(aggregate_id))

    async def get_many(
        self, aggregate_ids: Sequence[str], *, for_update: bool = False
    ) -> dict[str, A]:
        """Several aggregates in two statements (one with `for_update`'s locks); an id with
        no events is left out."""
        stream_ids = [self.stream_id(a) for a in aggregate_ids]
        if for_update:
            await self._store.lock_many(stream_ids)
        streams = await self._store.load_many(stream_ids)
        found = {}
        for aggregate_id, stream_id in zip(aggregate_ids, stream_ids, strict=True):
            if streams[stream_id]:
                aggregate = self._factory(stream_id)
                aggregate.replay(s.event for s in streams[stream_id])
                found[aggregate_id] = aggregate
        return found

    async def save(self, aggregate: A, metadata: dict[str, str] | None = None) -> None:
        await self.save_many([aggregate], metadata)

    async def save_many(
        self, aggregates: Sequence[A], metadata: dict[str, str] | None = None
    ) -> None:
        await self.write([self.take(a, metadata) for a in aggregates])

    def take(self, aggregate: A, metadata: dict[str, str] | None = None) -> StreamAppend:
        """The aggregate's new events as one append, which `write` writes: for bulk work, where
        one aggregate may take several appends, each with its own metadata."""
        pending, aggregate.pending = aggregate.pending, []
        append = StreamAppend(
            aggregate.stream_id, aggregate.version, pending, aggregate.partition_key(), metadata
        )
        aggregate.version += len(pending)
        return append

    async def write(self, appends: Sequence[StreamAppend]) -> None:
        appends = [a for a in appends if a.events]
        if not appends:
            return
        await self._store.append_many(appends)
        # Read tables live in the database: a store in memory (tests) has none to update.
        if self._projector is not None and isinstance(self._store, EventStore):
            events = [e for a in appends for e in a.events]
            await run_writes(self._store.session, self._projector(events))
