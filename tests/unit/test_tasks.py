"""Stopping a task whose loop lost a cancellation (as Python 3.11's `wait_for` can make it)."""

from __future__ import annotations

import asyncio

from shared.tasks import stop


async def _stubborn(lost: list[int]) -> None:
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if not lost:
                lost.append(1)  # the first request to stop is swallowed
                continue
            raise


async def test_a_task_that_swallowed_a_cancellation_is_stopped_all_the_same() -> None:
    lost: list[int] = []
    once = asyncio.create_task(_stubborn(lost))
    await asyncio.sleep(0)
    once.cancel()
    await asyncio.wait({once}, timeout=0.2)
    assert lost and not once.done()  # one cancellation, lost: the loop runs on
    assert await stop(once, 60)
    assert once.cancelled()


async def test_a_close_that_will_not_end_when_cancelled_is_let_go() -> None:
    """aiokafka's consumer, stopped while its broker was away, did not end when cancelled; the
    `asyncio.wait_for` around it waited for good and the consumer loop never ran again."""
    from shared.tasks import within

    release = asyncio.Event()

    async def stubborn_close() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue  # swallowed, as the client's close did

    assert await within(stubborn_close(), 0.2) is False
    release.set()


async def test_a_close_that_finishes_in_time_says_so() -> None:
    from shared.tasks import within

    assert await within(asyncio.sleep(0), 5) is True
