"""What every event store does, whatever keeps the events: a suite run against the store in
memory (`tests/unit`) and the store on PostgreSQL (`tests/integration`), so that a fast test on
the first asserts what the second does."""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

import pytest

from shared.clock import FixedClock
from shared.errors import ConcurrencyConflict
from shared.events import DomainEvent
from shared.eventstore.store import StreamAppend, Streams

TOPIC = "jinhui.contract.v1"


class Noted(DomainEvent):
    """An event that stays in the service."""

    event_type = "jinhui.contract.Noted"
    text: str


class Announced(DomainEvent):
    """An event that leaves the service: it gets an outbox row."""

    event_type = "jinhui.contract.Announced"
    topic = TOPIC
    text: str


def stream() -> str:
    return f"contract-{uuid.uuid4().hex[:12]}"


class EventStoreContract:
    """Subclasses give `transaction()`: a store whose writes commit when the block ends without
    an error and vanish when it raises; `published(ids)`: the ids of those events that have an
    outbox row; and `clock`, the clock the store records with."""

    clock: FixedClock

    def transaction(self) -> AbstractAsyncContextManager[Streams]:
        raise NotImplementedError

    async def published(self, store: Streams, ids: list[uuid.UUID]) -> set[uuid.UUID]:
        raise NotImplementedError

    async def test_a_stream_reads_back_in_version_order(self) -> None:
        s = stream()
        async with self.transaction() as store:
            await store.append_many([StreamAppend(s, 0, [Noted(text="一"), Noted(text="二")])])
            await store.append_many(
                [StreamAppend(s, 2, [Noted(text="三")], metadata={"actor": "tester"})]
            )
        async with self.transaction() as store:
            events = await store.load(s)
            assert [(e.version, e.event) for e in events] == [
                (1, Noted(text="一")),
                (2, Noted(text="二")),
                (3, Noted(text="三")),
            ]
            assert events[2].metadata == {"actor": "tester"} and events[0].stream_id == s
            assert await store.current_version(s) == 3
            assert await store.load(stream()) == [] and await store.current_version(stream()) == 0

    async def test_a_stale_version_is_a_conflict_and_appends_nothing(self) -> None:
        s, other = stream(), stream()
        async with self.transaction() as store:
            await store.append_many([StreamAppend(s, 0, [Noted(text="first")])])
        with pytest.raises(ConcurrencyConflict):
            async with self.transaction() as store:
                await store.append_many(
                    [
                        StreamAppend(other, 0, [Noted(text="would be fine")]),
                        StreamAppend(s, 0, [Noted(text="read at version 0")]),
                    ]
                )
        async with self.transaction() as store:
            assert [e.event for e in await store.load(s)] == [Noted(text="first")]
            assert await store.load(other) == []  # all or nothing

    async def test_many_streams_in_one_append_and_one_load(self) -> None:
        a, b, empty = stream(), stream(), stream()
        async with self.transaction() as store:
            recorded = await store.append_many(
                [
                    StreamAppend(a, 0, [Noted(text="a1"), Noted(text="a2")]),
                    StreamAppend(b, 0, [Noted(text="b1")]),
                ]
            )
            assert [(r.stream_id, r.version) for r in recorded] == [(a, 1), (a, 2), (b, 1)]
        async with self.transaction() as store:
            await store.lock_many([b, a, a])  # any order, duplicates: no deadlock, no error
            found = await store.load_many([a, b, empty])
            texts = {
                k: [e.event.text for e in v if isinstance(e.event, Noted)] for k, v in found.items()
            }
            assert texts == {
                a: ["a1", "a2"],
                b: ["b1"],
                empty: [],
            }

    async def test_a_stream_as_it_stood_at_an_instant(self) -> None:
        s = stream()
        async with self.transaction() as store:
            await store.lock(s)
            await store.append_many([StreamAppend(s, 0, [Noted(text="before")])])
        then = self.clock.now()
        self.clock.advance(timedelta(minutes=5))
        async with self.transaction() as store:
            await store.append_many([StreamAppend(s, 1, [Noted(text="after")])])
        async with self.transaction() as store:
            assert [e.event for e in await store.load(s, up_to=then)] == [Noted(text="before")]
            assert len(await store.load(s)) == 2

    async def test_read_all_follows_positions(self) -> None:
        a, b = stream(), stream()
        async with self.transaction() as store:
            start = max((e.position for e in await store.read_all(limit=10**9)), default=0)
            await store.append_many([StreamAppend(a, 0, [Noted(text="1")])])
        async with self.transaction() as store:
            await store.append_many([StreamAppend(b, 0, [Noted(text="2"), Noted(text="3")])])
        async with self.transaction() as store:
            mine = [e for e in await store.read_all(after_position=start) if e.stream_id in (a, b)]
            assert [e.event for e in mine] == [Noted(text=t) for t in "123"]
            positions = [e.position for e in mine]
            assert positions == sorted(positions) and len(set(positions)) == 3
            page = await store.read_all(after_position=positions[0], limit=1)
            assert [e.position for e in page] == [positions[1]]

    async def test_only_events_that_leave_the_service_get_an_outbox_row(self) -> None:
        s = stream()
        async with self.transaction() as store:
            recorded = await store.append_many(
                [StreamAppend(s, 0, [Noted(text="kept"), Announced(text="told")], "key-1")]
            )
            ids = [r.event_id for r in recorded]
            assert await self.published(store, ids) == {ids[1]}
