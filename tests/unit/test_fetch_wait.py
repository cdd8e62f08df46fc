"""A consumer's fetch wait: short while messages come, longer after a quiet second."""

from __future__ import annotations

from types import SimpleNamespace

from shared.kafka.consumer.fetch_wait import FetchWait


def test_the_wait_grows_after_a_quiet_second_and_shrinks_with_the_first_records() -> None:
    wait = FetchWait(busy_ms=20, idle_ms=100, idle_after_s=1.0)
    assert wait.after_poll(False, now=10.0) == 20  # just started: not yet quiet
    assert wait.after_poll(False, now=10.9) == 20
    assert wait.after_poll(False, now=11.0) == 100
    assert wait.after_poll(True, now=30.0) == 20
    assert wait.after_poll(False, now=30.5) == 20
    assert wait.after_poll(False, now=31.2) == 100


def test_an_idle_wait_below_the_busy_one_is_never_used() -> None:
    assert FetchWait(busy_ms=200, idle_ms=100).idle_ms == 200


def test_the_wait_is_what_the_next_fetch_request_asks_for() -> None:
    fetcher = SimpleNamespace(_fetch_max_wait_ms=20)
    wait = FetchWait(busy_ms=20, idle_ms=100, idle_after_s=0.0)
    wait.after_poll(False, now=1.0)
    wait.apply(SimpleNamespace(_fetcher=fetcher))
    assert fetcher._fetch_max_wait_ms == 100
