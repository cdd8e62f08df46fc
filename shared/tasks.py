"""Stopping a task for certain.

Python 3.11's `asyncio.wait_for` loses a cancellation that arrives just as the await it wraps
completes; a worker loop that lost one runs on as if nothing had been asked. Everything that
stops a task (the runtime at shutdown, the supervisor, the suite's helpers) asks again until
the task has ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def stop(task: asyncio.Future[Any], grace_s: float) -> bool:
    """Cancel `task`, and again every second, until it has ended; False if it had not ended
    within `grace_s`. A cancellation of the caller meanwhile is kept until then."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_s
    interrupted = False
    while not task.done() and loop.time() < deadline:
        task.cancel()
        try:
            await asyncio.wait({task}, timeout=min(1.0, max(0.01, deadline - loop.time())))
        except asyncio.CancelledError:
            interrupted = True
    if interrupted:
        raise asyncio.CancelledError
    return task.done()


async def within(work: Awaitable[Any], seconds: float) -> bool:
    """Give `work` (closing a client that talks to a broker) `seconds`, then let it go: True
    if it finished. Unlike `asyncio.wait_for`, a late `work` is cancelled and not waited for —
    aiokafka's consumer, stopped while its broker is away, does not end when cancelled, and
    `wait_for` waiting on it held a consumer loop for good after a two-minute outage."""
    task = asyncio.ensure_future(work)
    task.add_done_callback(_forget)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
    return bool(done) and not task.cancelled() and task.exception() is None


def _forget(task: asyncio.Future[Any]) -> None:
    """Its outcome is read here, so an abandoned close never logs 'exception never retrieved'."""
    if not task.cancelled():
        task.exception()


async def arrived(
    probe: Callable[[], Awaitable[T | None]], within_s: float, every_s: float = 0.2
) -> T | None:
    """The first answer of `probe` that is not None, asked every `every_s` for at most
    `within_s` (a fact still on its way from another service); None if it never came."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        found = await probe()
        if found is not None or loop.time() >= deadline:
            return found
        await asyncio.sleep(every_s)
