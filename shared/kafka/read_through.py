"""How far every reader of a service's topics has read, in the service's own clock.

When a memory-only broker comes back empty, it lacks only what some reader had not read yet:
what every reader had committed is applied on their side and needs no second sending. So a
service looks at its topics every little while: it notes the database's time and then the end
of each partition (a sighting); when, at a later look, every reader has committed past every
end of a sighting, every row published before that sighting's time has been read by all. After
the broker is emptied the relay re-sends only rows published after that time — a minute of
work, not the last hour, which would otherwise go out ahead of new work.

A reader is a group the suite declares for the topic (`READERS`), or any other group that has
committed an offset on it (payroll's). A sighting holds only on the broker it was taken on: once
the service's marker topic is missing, or ends are lower than a sighting's (offsets never go
back on one broker), nothing is sighted or concluded until the service has re-sent what the
old broker had (`forget_sightings`). Nothing here is needed for correctness — without a
conclusion the relay re-sends its whole window, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from shared.backoff import Backoff
from shared.kafka.closing import close_consumer
from shared.kafka.topics import READERS
from shared.outages import is_outage
from shared.tasks import within
from shared.telemetry.metrics import READ_BY_ALL

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sighting:
    """The database's time, then the end offset of each partition of one topic."""

    at: datetime
    ends: Mapping[int, int]


def read_by_all(
    sighting: Sighting, ends_now: Mapping[int, int], committed: Iterable[Mapping[int, int]]
) -> datetime | None:
    """`sighting.at` when every reader has committed at least the sighting's ends; None while
    one is behind, or when the ends went back (another broker: the sighting says nothing)."""
    if any(ends_now.get(p, 0) < end for p, end in sighting.ends.items()):
        return None
    for offsets in committed:
        if any(offsets.get(p, 0) < end for p, end in sighting.ends.items()):
            return None
    return sighting.at


class ReadThrough:
    def __init__(
        self,
        *,
        bootstrap_servers: str,
        service: str,
        topics: Sequence[str],
        marker: str,
        clock: Callable[[], Awaitable[datetime]],
        interval_s: float,
        connection: Mapping[str, Any] | None = None,
    ) -> None:
        self._service = service
        self._topics = list(topics)
        self._marker = marker
        self._another_broker = False
        self._epoch = 0  # a look that began before `forget_sightings` concludes nothing
        self._clock = clock
        self._interval_s = interval_s
        self._clients = _Clients(bootstrap_servers, connection or {})
        self._looking = asyncio.Lock()  # the task's looks and a tool's share the clients
        self._sightings: dict[str, Sighting] = {}
        self.through: dict[str, datetime] = {}

    def forget_sightings(self) -> None:
        """The broker was emptied: what was sighted on the old one says nothing of the new.
        `through` stays: it is a fact about rows published before."""
        self._sightings.clear()
        self._another_broker = False
        self._epoch += 1

    async def run(self) -> None:
        """Look every `interval_s`; an outage is waited out (said once), and a cluster that does
        not let this service see other groups' offsets leaves the relay's window in force."""
        backoff, told = Backoff(initial_s=1.0, maximum_s=self._interval_s), False
        try:
            while True:
                try:
                    await self.look()
                except Exception as exc:
                    if not (is_outage(exc) or isinstance(exc, KafkaError)):
                        raise
                    if not told:
                        log.warning(
                            "cannot see how far readers have read", extra={"error": repr(exc)}
                        )
                        told = True
                    await asyncio.sleep(backoff.next_delay())
                    continue
                backoff.reset()
                told = False
                await asyncio.sleep(self._interval_s)
        finally:
            await self.close()

    async def close(self) -> None:
        await self._clients.close()

    async def look(self) -> None:
        """One look; the clients it used are closed when it fails, and opened anew next time."""
        try:
            async with self._looking:
                await self._look()
        except BaseException:
            await self._clients.close()
            raise

    async def _look(self) -> None:
        epoch = self._epoch
        at = await self._clock()
        ends = await self._ends()
        if epoch != self._epoch:
            return
        went_back = any(
            ends[t].get(p, 0) < end
            for t, seen in self._sightings.items()
            for p, end in seen.ends.items()
        )
        self._another_broker = self._another_broker or went_back or not ends[self._marker]
        if self._another_broker:
            return  # until the service has re-sent what the old broker had
        committed = {g: await self._committed(g, ends) for g in await self._groups()}
        if epoch != self._epoch:
            return
        for topic in self._topics:
            readers = [
                offsets[topic]
                for group, offsets in committed.items()
                if group in READERS.get(topic, ()) or any(offsets[topic].values())
            ]
            before = self._sightings.get(topic)
            if before is not None and (seen := read_by_all(before, ends[topic], readers)):
                self.through[topic] = max(seen, self.through.get(topic, seen))
                READ_BY_ALL.labels(self._service, topic).set(self.through[topic].timestamp())
            self._sightings[topic] = Sighting(at, ends[topic])

    async def _ends(self) -> dict[str, dict[int, int]]:
        """The partitions as the broker has them now, then their ends. A consumer's partitions
        are its cached metadata, refreshed every few minutes: a marker created after it started
        looked missing for five. Every topic is described (naming one would let a broker that
        creates topics on sight create a missing marker); a consumer whose cache differs is
        opened anew."""
        admin = await self._clients.admin()
        described = {
            str(t["topic"]): {int(p["partition"]) for p in t["partitions"]}
            for t in await admin.describe_topics()
            if not t["error_code"]
        }
        wanted = [*self._topics, self._marker]
        consumer = await self._clients.consumer()
        if any(
            (consumer.partitions_for_topic(t) or set()) != described.get(t, set()) for t in wanted
        ):
            consumer = await self._clients.consumer(renewed=True)
        ends: dict[str, dict[int, int]] = {}
        for topic in wanted:
            tps = [TopicPartition(topic, p) for p in sorted(described.get(topic, ()))]
            offsets = await consumer.end_offsets(tps) if tps else {}
            ends[topic] = {tp.partition: offset for tp, offset in offsets.items()}
        return ends

    async def _groups(self) -> list[str]:
        declared = {g for t in self._topics for g in READERS.get(t, ())}
        admin = await self._clients.admin()
        listed = {str(group[0]) for group in await admin.list_consumer_groups()}
        return sorted(declared | listed)

    async def _committed(
        self, group: str, ends: Mapping[str, Mapping[int, int]]
    ) -> dict[str, dict[int, int]]:
        """What `group` has committed on each partition (0 where nothing): one request to the
        group's coordinator, without joining the group. The partitions are named: a request for
        'all of them' is answered wrongly by the local broker."""
        tps = [
            TopicPartition(t, p)
            for t, partitions in ends.items()
            if t != self._marker
            for p in partitions
        ]
        committed: dict[str, dict[int, int]] = {t: {} for t in self._topics}
        if not tps:
            return committed
        admin = await self._clients.admin()
        offsets = await admin.list_consumer_group_offsets(group, partitions=tps)
        for tp in tps:
            found = offsets.get(tp)
            committed[tp.topic][tp.partition] = max(found.offset, 0) if found else 0
        return committed


class _Clients:
    """One consumer (for partitions and their ends, in no group) and one admin client (for
    groups and their offsets), kept from look to look: a client per group per look was a
    burst of connections every look, enough on a busy machine to make the services' own
    groups miss their rebalances."""

    def __init__(self, bootstrap_servers: str, connection: Mapping[str, Any]) -> None:
        self._bootstrap = bootstrap_servers
        self._connection = dict(connection)
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None

    async def consumer(self, *, renewed: bool = False) -> AIOKafkaConsumer:
        """The kept consumer; `renewed`, a new one, whose metadata is read at its start."""
        if renewed and self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            await close_consumer(consumer)
        if self._consumer is None:
            consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, **self._connection)
            self._consumer = consumer  # kept before it starts: closed also when start fails
            await consumer.start()
        return self._consumer

    async def admin(self) -> AIOKafkaAdminClient:
        if self._admin is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, **self._connection)
            self._admin = admin
            await admin.start()
        return self._admin

    async def close(self) -> None:
        """An unclosed consumer is an ERROR each time; a close that hangs on a broker that is
        away is let go after 5 s."""
        consumer, admin, self._consumer, self._admin = self._consumer, self._admin, None, None
        if consumer is not None:
            await close_consumer(consumer)
        if admin is not None:
            await within(admin.close(), 5)
