"""Closing a consumer for certain, even when its close is cut short, and without leaving
its group.

aiokafka's `AIOKafkaConsumer.stop` leaves its group, then stops the fetcher and the client. A
stop that is cancelled part-way (after a few seconds with a broker that is away, or busy)
leaves the rest running: the heartbeat task goes on telling the broker that the member is
alive, and the fetcher goes on fetching. On Tansu a member that heartbeats but never rejoins
holds its group forever; when it was the group's leader no new member is ever given a
partition. On a machine kept busy by other work, one such stop left a service's consumer
group unable to admit a new member for 20 minutes.

Nor does a closing consumer send LeaveGroup. Tansu 0.6.0 keeps as leader a member that leaves
while its group is forming (that state's LeaveGroup removes the member, not the leader), and
from then on nobody is given a partition of that group until the broker restarts: a rolling
restart, where the new replica joins just as the old one leaves, does exactly that. A member
that goes silent is dropped after its session timeout whatever the state, and a new leader is
chosen; the cost is one session timeout before its partitions are read again.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.conn import CloseReason
from aiokafka.consumer.group_coordinator import GroupCoordinator

from shared.tasks import within

_COORDINATOR_TASKS = ("_heartbeat_task", "_commit_refresh_task", "_coordination_task")


async def close_consumer(consumer: AIOKafkaConsumer, seconds: float = 5.0) -> bool:
    """Give the consumer `seconds` to close, without leaving its group; whatever of it still
    runs after that, or when the caller is cancelled meanwhile, is silenced at once. True if it
    closed in time.

    A close is never left to finish on its own: a version that let closes finish in the
    background (and send their LeaveGroup late) saw hardship's group admit no member again for
    the rest of a run. A silent member is dropped after its session timeout, and a new leader
    is chosen."""
    never_leave(consumer)
    try:
        return await within(consumer.stop(), seconds)
    finally:
        silence(consumer)


def never_leave(consumer: AIOKafkaConsumer) -> None:
    """Where aiokafka would send LeaveGroup (on stop, and when its poll loop has been idle past
    `max_poll_interval_ms`) the member forgets its generation and goes silent instead."""
    coordinator = getattr(consumer, "_coordinator", None)
    if not isinstance(coordinator, GroupCoordinator):
        return  # not started, or without a group: there is nothing to leave

    async def go_silent() -> None:
        coordinator.reset_generation()

    coordinator._maybe_leave_group = go_silent


def silence(consumer: AIOKafkaConsumer) -> None:
    """End every task of the consumer and drop its connections, without waiting on the
    broker: a silent member is dropped from its group after its session timeout."""
    coordinator: Any = getattr(consumer, "_coordinator", None)
    for name in _COORDINATOR_TASKS:
        _cancel(getattr(coordinator, name, None))
    _cancel(getattr(getattr(consumer, "_fetcher", None), "_fetch_task", None))
    consumer._closed = True  # silenced: nothing of it is left to close
    client: Any = getattr(consumer, "_client", None)
    if client is None:
        return
    _cancel(getattr(client, "_sync_task", None))
    for connection in list(getattr(client, "_conns", {}).values()):
        with contextlib.suppress(Exception):
            connection.close(reason=CloseReason.SHUTDOWN)


def _cancel(task: asyncio.Future[Any] | None) -> None:
    if task is not None and not task.done():
        task.cancel()
