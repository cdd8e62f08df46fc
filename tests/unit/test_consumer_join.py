"""A consumer joining its group on a busy broker is reported failing in time, and is given up
only past the limit: cancelling a slow join left a half-joined member behind each time."""

from __future__ import annotations

import asyncio

import pytest

from shared.kafka.consumer.runner import join
from shared.supervisor import Health


async def test_a_slow_join_is_reported_and_waited_for() -> None:
    health = Health("jinhui", "hardship.members")
    finished = asyncio.Event()

    async def slow_start() -> None:
        await asyncio.sleep(0.5)
        finished.set()

    await join(slow_start(), health, "hardship.members", step_s=0.05, limit_s=60.0)
    assert finished.is_set()
    assert health.error == "TimeoutError"  # readiness was told while it waited


async def test_a_join_past_the_limit_is_given_up_and_cancelled() -> None:
    health = Health("jinhui", "hardship.members")
    cancelled = asyncio.Event()

    async def never() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        await join(never(), health, "hardship.members", step_s=0.05, limit_s=0.1)
    await asyncio.wait_for(cancelled.wait(), 30)


async def test_a_quick_join_leaves_health_alone() -> None:
    health = Health("jinhui", "hardship.members")

    async def quick() -> None:
        return None

    await join(quick(), health, "hardship.members", step_s=5.0)
    assert health.failing_since is None
