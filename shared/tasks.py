"""Stopping a task for certain.

Python 3.11's `asyncio.wait_for` loses a cancellation that arrives just as the await it wraps
completes; a worker loop that lost one runs on as if nothing had been asked. Everything that
stops a task (the runtime at shutdown, the supervisor, the suite's helpers) asks again until
the task has ended.
"""

from __future__ import annotations

import asyncio
from typing import Any


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
