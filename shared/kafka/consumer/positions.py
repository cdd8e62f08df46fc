"""Watching a consumer's positions against the broker's logs.

A broker that came back empty leaves positions past the end of logs that are gone, and
fetchers that never answer again; both are found here and answered with a rewind or a fresh
consumer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

log = logging.getLogger(__name__)

# A broker that answers but never settles a partition's position (seen after it came back
# empty) would hold the consumer forever: past this, the consumer is replaced.
STEP_S = 30.0
_STALL_S = 60.0
_ENDS_EVERY_S = 10.0


async def position(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int:
    return await asyncio.wait_for(consumer.position(tp), STEP_S)


def highwater(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
    """None for a partition a rebalance has just taken away."""
    return consumer.highwater(tp) if tp in consumer.assignment() else None


def _lags(consumer: AIOKafkaConsumer, tp: TopicPartition) -> bool:
    """Without waiting: a partition whose position or end is not known is not judged."""
    end, subscription = highwater(consumer, tp), consumer._subscription.subscription
    if end is None or subscription is None or subscription.assignment is None:
        return False
    state = subscription.assignment.state_value(tp)
    return state is not None and state.has_valid_position and state.position < end


def _buffered(consumer: AIOKafkaConsumer, tp: TopicPartition) -> bool:
    """Records of the partition fetched and not yet handed out by a poll."""
    fetcher = getattr(consumer, "_fetcher", None)
    return tp in getattr(fetcher, "_records", {})


class PositionWatch:
    """One consumer group's watch; its verdicts are read by the runner's poll loop."""

    def __init__(
        self, group_id: str, ends_every_s: float = _ENDS_EVERY_S, stall_s: float = _STALL_S
    ) -> None:
        self._group = group_id
        self._ends_every_s = ends_every_s
        self._stall_s = stall_s
        self._ends_checked_at = float("-inf")
        self._past_end: set[TopicPartition] = set()  # past the end at the last check
        self._stalled_since: dict[TopicPartition, float] = {}
        # The broker answered a question about these partitions since the runner last looked:
        # an idle consumer is healthy when its broker answers, not when messages arrive.
        self.answered = False

    async def past_the_end(
        self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition]
    ) -> Sequence[TopicPartition]:
        """Partitions to read again from their beginning: a position past a partition's end
        can only come from a log that is gone (a broker that came back empty, an offset
        committed against the old one), and waiting there would skip what arrives below it.
        The broker is asked for the ends (a fetch from past the end may never answer with
        one), every few seconds."""
        now = asyncio.get_running_loop().time()
        if now < self._ends_checked_at + self._ends_every_s:
            return []
        self._ends_checked_at = now
        current = list(consumer.assignment() & assigned)
        ends = await asyncio.wait_for(consumer.end_offsets(current), STEP_S) if current else {}
        self.answered = True
        past = set()
        for tp, end in ends.items():
            # Tansu answers "latest" with where the last record batch begins, not where it
            # ends; the high-water mark of the last fetch is exact. A log that is gone shows
            # in both: the fetches past its end answer with its new, lower mark.
            fetched = highwater(consumer, tp)
            if await position(consumer, tp) > max(end, fetched or 0):
                past.add(tp)
        # Past the end twice in a row: a broker may report an end that lags a write it has
        # just served; a log that is gone stays gone.
        stale, self._past_end = list(past & self._past_end), past - self._past_end
        if stale:
            log.warning(
                "positions past the end of the log; reading again from the beginning",
                extra={"group": self._group, "partitions": len(stale)},
            )
        return stale

    def stalled(
        self,
        consumer: AIOKafkaConsumer,
        assigned: set[TopicPartition],
        batches: Mapping[TopicPartition, list[ConsumerRecord]],
    ) -> bool:
        """A partition known to hold more than its position that yields nothing for a long
        time has a fetcher that stopped (seen after a broker came back empty): a new consumer
        should take over from the committed offsets. A partition whose records are already
        fetched and wait their turn behind other partitions' (a poll hands out a few hundred
        records, one partition's fetch after another) is queued, not stalled."""
        now = asyncio.get_running_loop().time()
        for tp in assigned:
            if tp not in batches and _lags(consumer, tp) and not _buffered(consumer, tp):
                self._stalled_since.setdefault(tp, now)
            else:
                self._stalled_since.pop(tp, None)
        if any(now - since > self._stall_s for since in self._stalled_since.values()):
            log.warning("fetching stalled; a new consumer takes over", extra={"group": self._group})
            self._stalled_since.clear()
            return True
        return False
