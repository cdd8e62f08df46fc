"""The relay's backlog gauge counts every unpublished row, which behind a batch of a million
lines takes a quarter of a second: it is counted every few seconds, not after every batch."""

from __future__ import annotations

import time
from typing import Any, cast

from shared.eventstore.relay import OutboxRelay


def _relay(every_s: float) -> OutboxRelay:
    nothing = cast(Any, None)  # the check under test touches neither database nor broker
    return OutboxRelay(
        service="test", sessions=nothing, tables=nothing, producer=nothing, backlog_every_s=every_s
    )


def test_the_backlog_is_counted_at_most_once_in_its_interval() -> None:
    relay = _relay(every_s=60)
    assert relay._backlog_due()
    assert not any(relay._backlog_due() for _ in range(100))


def test_the_backlog_is_counted_again_once_the_interval_has_passed() -> None:
    relay = _relay(every_s=0.01)
    assert relay._backlog_due()
    time.sleep(0.02)
    assert relay._backlog_due()
