"""How long a consumer's fetches wait at the broker: short while messages come, longer once
it has found nothing for a while. Tansu answers a fetch only when its wait is over, so the
short wait is what a hop between services costs; but every idle consumer fetching fifty times
a second kept a quarter of a core of the broker busy with empty answers, on a machine where
the services, PostgreSQL and the broker share two cores. Apache Kafka answers a waiting fetch
as soon as data arrives, so there the longer wait costs nothing."""

from __future__ import annotations

from typing import Any


class FetchWait:
    """After `idle_after_s` without a record, fetches wait `idle_ms`; the first records bring
    back `busy_ms`. The first message after a quiet spell waits at most `idle_ms` for its
    fetch's answer, once."""

    def __init__(self, busy_ms: int, idle_ms: int, idle_after_s: float = 1.0) -> None:
        self.busy_ms = busy_ms
        self.idle_ms = max(idle_ms, busy_ms)
        self._idle_after_s = idle_after_s
        self._last_records_at: float | None = None
        self.current_ms = busy_ms

    def after_poll(self, got_records: bool, now: float) -> int:
        """The wait the next fetches should ask for, given what this poll returned at `now`
        (a monotonic clock)."""
        if got_records or self._last_records_at is None:
            self._last_records_at = now
        quiet = now - self._last_records_at >= self._idle_after_s
        self.current_ms = self.idle_ms if quiet else self.busy_ms
        return self.current_ms

    def apply(self, consumer: Any) -> None:
        """aiokafka reads the wait from its fetcher each time it builds a fetch request; it
        has no public setter."""
        fetcher = getattr(consumer, "_fetcher", None)
        if fetcher is not None:
            fetcher._fetch_max_wait_ms = self.current_ms
