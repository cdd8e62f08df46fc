"""Readiness tells a frozen broker from a process starved of CPU by how late its own event
loop runs: a tick late by half a second or more means the process is what is slow."""

from __future__ import annotations

import asyncio
import contextlib
import time

from shared.loop_lag import LoopLag, silent_verdict


def test_a_late_tick_is_remembered_for_a_while_then_forgotten() -> None:
    lag = LoopLag(remember_s=10)
    lag.record(0.02, now=100.0)
    assert not lag.starved(within_s=5, now=100.0)
    lag.record(0.8, now=101.0)
    assert lag.starved(within_s=5, now=104.0)
    assert not lag.starved(within_s=5, now=107.0)
    lag.record(0.0, now=120.0)  # old entries leave memory
    assert not lag.starved(within_s=60, now=120.0)


def test_a_silent_broker_beside_a_loop_on_time_is_unavailable_at_once() -> None:
    assert silent_verdict(2.0, 10.0, starved=False) == "unavailable (TimeoutError)"


def test_a_silent_broker_beside_a_starved_loop_has_a_grace_and_no_more() -> None:
    assert silent_verdict(4.0, 10.0, starved=True).startswith("ok (busy")
    assert silent_verdict(10.5, 10.0, starved=True) == "unavailable (TimeoutError)"


async def test_a_loop_blocked_for_a_second_is_seen_as_starved() -> None:
    lag = LoopLag()
    ticker = asyncio.create_task(lag.run())
    await asyncio.sleep(0.15)
    time.sleep(1.0)  # noqa: ASYNC251 - the whole process stops, as when another holds the cores
    await asyncio.sleep(0.25)  # the ticker wakes, late
    ticker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ticker
    assert lag.starved(within_s=30)
