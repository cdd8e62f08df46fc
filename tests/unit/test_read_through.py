"""After an emptied broker a service re-sends only what some reader had not read: the rule
that decides when every reader has read everything published before a moment."""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC, datetime

import pytest

from shared.kafka.consumer.config import Subscription
from shared.kafka.read_through import Sighting, read_by_all
from shared.kafka.topics import READERS

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SEEN = Sighting(AT, {0: 5, 1: 0, 2: 7})


def test_every_reader_past_every_end_has_read_all_before_the_sighting() -> None:
    committed = [{0: 5, 1: 0, 2: 9}, {0: 6, 1: 3, 2: 7}]
    assert read_by_all(SEEN, {0: 6, 1: 3, 2: 9}, committed) == AT


def test_one_reader_one_partition_behind_is_enough_to_conclude_nothing() -> None:
    committed = [{0: 5, 1: 0, 2: 9}, {0: 6, 1: 3, 2: 6}]
    assert read_by_all(SEEN, {0: 6, 1: 3, 2: 9}, committed) is None


def test_a_partition_a_reader_never_committed_counts_as_unread() -> None:
    assert read_by_all(SEEN, {0: 5, 1: 0, 2: 7}, [{0: 5}]) is None


def test_ends_lower_than_the_sighting_mean_another_broker() -> None:
    """A broker that came back empty: its readers' offsets say nothing of the old one's."""
    assert read_by_all(SEEN, {0: 1, 1: 0, 2: 1}, [{0: 9, 1: 9, 2: 9}]) is None


def test_no_reader_at_all_means_nothing_was_owed() -> None:
    assert read_by_all(SEEN, {0: 5, 1: 0, 2: 7}, []) == AT


def test_every_consumer_group_of_the_suite_is_declared_a_reader_of_what_it_reads() -> None:
    """A group missing from READERS would be judged only once it had committed, and what it
    had not read yet could be left unsent after an emptied broker."""
    from services.disbursements.entrypoints import consumers as disbursements
    from services.entitlements.entrypoints import consumers as entitlements
    from services.hardship.entrypoints import consumers as hardship
    from services.members.entrypoints import consumers as members

    ctx = object()
    subscriptions: list[Subscription] = [
        disbursements.entitlement_events(),
        disbursements.member_events(),
        disbursements.hardship_events(ctx),  # type: ignore[arg-type]
        disbursements.payroll_results(),
        entitlements.member_events(ctx),  # type: ignore[arg-type]
        entitlements.hardship_events(),
        entitlements.disbursement_events(ctx),  # type: ignore[arg-type]
        hardship.member_events(ctx),  # type: ignore[arg-type]
        members.hr_events(ctx),  # type: ignore[arg-type]
    ]
    declared = {(t, g) for t, groups in READERS.items() for g in groups}
    used = {(t, s.group_id) for s in subscriptions for t in s.topics}
    assert used == declared


async def test_a_look_while_the_broker_is_away_leaves_no_client_open() -> None:
    """During a ten-minute outage each look left a consumer unclosed: 738 ERROR lines."""
    from aiokafka.errors import KafkaConnectionError

    from jinhui.localstack import free_port
    from shared.kafka.read_through import ReadThrough

    errors: list[str] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, c: errors.append(c["message"]))

    async def clock() -> datetime:
        return AT

    away = ReadThrough(
        service="members",
        bootstrap_servers=f"127.0.0.1:{free_port()}",
        topics=["members.events.v1"],
        marker="jinhui.marker.members",
        clock=clock,
        interval_s=1,
    )
    for _ in range(3):
        with pytest.raises(KafkaConnectionError):
            await away.look()
    gc.collect()
    await asyncio.sleep(0)
    assert not [e for e in errors if "Unclosed" in e], errors
