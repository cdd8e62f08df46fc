"""De-duplication and the handler's transaction, which are one thing.

The message's id is recorded as processed in the same database transaction as the handler's
change; the Kafka offset is committed only after that transaction commits. A redelivered
message finds its id already recorded and has no second effect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager

from opentelemetry import trace
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.sql import insert_on_conflict
from shared.eventstore.store import EventStore
from shared.eventstore.tables import EventStoreTables
from shared.kafka.consumer.messages import BulkHandler, HandlerContext, Work


def _runs(work: Sequence[Work], bulk: Mapping[str, BulkHandler]) -> list[list[Work]]:
    """Consecutive messages whose types share a bulk handler run together; any other message
    is a run of its own."""
    runs: list[list[Work]] = []
    for w in work:
        handler = bulk.get(w.message.envelope.type)
        if runs and handler is not None and bulk.get(runs[-1][0].message.envelope.type) is handler:
            runs[-1].append(w)
        else:
            runs.append([w])
    return runs


class Transactions:
    def __init__(
        self,
        group_id: str,
        sessions: async_sessionmaker[AsyncSession],
        tables: EventStoreTables,
        store_factory: Callable[[AsyncSession], EventStore],
        after_commit: Callable[[], None],
    ) -> None:
        self._group = group_id
        self._sessions = sessions
        self._store_factory = store_factory
        self._after_commit = after_commit
        self._record_one = insert_on_conflict(
            tables.processed_messages,
            ["consumer", "message_id", "topic", "partition", "offset"],
            ["consumer", "message_id"],
            returning="message_id",
        )
        self._record_many = text(
            f'INSERT INTO "{tables.processed_messages.name}" '
            '(consumer, message_id, topic, "partition", "offset") '
            "SELECT :consumer, u.m, u.t, u.p, u.o FROM unnest(CAST(:ids AS text[]), "
            "CAST(:topics AS text[]), CAST(:partitions AS int[]), CAST(:offsets AS bigint[])) "
            "AS u(m, t, p, o) ON CONFLICT (consumer, message_id) DO NOTHING RETURNING message_id"
        )

    async def once(self, work: Work) -> str:
        """One message in its own transaction: processed, or a duplicate with no effect."""
        message = work.message
        async with self._sessions() as session, session.begin():
            first_time = await session.scalar(
                self._record_one,
                {
                    "consumer": self._group,
                    "message_id": message.envelope.id,
                    "topic": message.topic,
                    "partition": message.partition,
                    "offset": message.offset,
                },
            )
            if first_time is None:
                return "duplicate"
            await work.handler(HandlerContext(session, self._store_factory(session)), message)
        self._after_commit()
        return "processed"

    async def together(
        self,
        work: Sequence[Work],
        bulk_handlers: Mapping[str, BulkHandler],
        span: Callable[[Work], AbstractContextManager[trace.Span]],
    ) -> list[str]:
        """Every message of `work` in one transaction: all commit or none does. A message
        recorded before (a redelivery), or twice in the chunk, has no second effect. Runs of
        one bulk-handled type go to their bulk handler at once."""
        async with self._sessions() as session, session.begin():
            new = set(
                await session.scalars(
                    self._record_many,
                    {
                        "consumer": self._group,
                        "ids": [w.message.envelope.id for w in work],
                        "topics": [w.record.topic for w in work],
                        "partitions": [w.record.partition for w in work],
                        "offsets": [w.record.offset for w in work],
                    },
                )
            )
            context = HandlerContext(session, self._store_factory(session))
            outcomes, fresh = [], []
            for w in work:
                first = w.message.envelope.id in new
                new.discard(w.message.envelope.id)
                outcomes.append("processed" if first else "duplicate")
                if first:
                    fresh.append(w)
            for run in _runs(fresh, bulk_handlers):
                bulk = bulk_handlers.get(run[0].message.envelope.type)
                if bulk is not None and len(run) > 1:
                    await bulk(context, [w.message for w in run])
                    continue
                for w in run:
                    with span(w):
                        await w.handler(context, w.message)
        self._after_commit()
        return outcomes
