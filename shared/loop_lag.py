"""How late this process's event loop runs what is due.

A readiness check that times out says little by itself: the broker may be frozen, or this
process may be starved of CPU (a burst of requests, or a machine whose cores another process
holds) and never got round to reading the answer. A starved loop wakes every timer late, so a
little ticker tells the two apart: a broker that does not answer while the loop runs on time is
unavailable at once; while the loop runs late, it has a grace, as the database has.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

TICK_S = 0.1
# A tick this late means the process, not its peer, is what is slow.
STARVED_LATE_S = 0.5


class LoopLag:
    def __init__(self, remember_s: float = 10.0) -> None:
        self._remember_s = remember_s
        self._late: deque[tuple[float, float]] = deque()  # (when, how late), late ticks only

    async def run(self) -> None:
        while True:
            due = time.monotonic() + TICK_S
            await asyncio.sleep(TICK_S)
            self.record(time.monotonic() - due)

    def record(self, late_s: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if late_s >= STARVED_LATE_S:
            self._late.append((now, late_s))
        while self._late and self._late[0][0] < now - self._remember_s:
            self._late.popleft()

    def starved(self, within_s: float, now: float | None = None) -> bool:
        """Whether a tick ran at least `STARVED_LATE_S` late in the last `within_s` seconds."""
        now = time.monotonic() if now is None else now
        return any(when >= now - within_s for when, _ in self._late)


def silent_verdict(silent_for_s: float, grace_s: float, starved: bool) -> str:
    """A peer that has not answered for `silent_for_s`: still ok while this process is starved
    and the silence is shorter than `grace_s`; unavailable otherwise."""
    if starved and silent_for_s < grace_s:
        return f"ok (busy: this process runs late; last answered {silent_for_s:.0f} s ago)"
    return "unavailable (TimeoutError)"
