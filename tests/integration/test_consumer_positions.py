"""The consumer's watch for positions past the end of a log that is gone, on the real broker:
a partition whose last record batch holds many records is not taken for a lost log (Tansu
answers "latest" with where that batch begins; taken at its word, consumers re-read every topic
from the beginning over and over)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.kafka.consumer.positions import PositionWatch
from shared.kafka.topics import Topic, ensure_topics
from tests.integration.conftest import Infra


@asynccontextmanager
async def _consuming(
    infra: Infra, partitions: int, records: int, value: bytes, linger_ms: int
) -> AsyncIterator[tuple[str, AIOKafkaConsumer]]:
    """A fresh topic holding `records` records spread over its partitions (sent within one
    linger, so in batches of many), and a consumer subscribed to it from the beginning."""
    topic = f"test.positions.{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.bootstrap_servers, [Topic(topic, partitions, "test", "")])
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap_servers, linger_ms=linger_ms)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=infra.bootstrap_servers, auto_offset_reset="earliest"
    )
    await producer.start()
    await consumer.start()
    try:
        sent = [
            await producer.send(topic, value=value, partition=n % partitions)
            for n in range(records)
        ]
        await asyncio.gather(*sent)
        yield topic, consumer
    finally:
        await consumer.stop()
        await producer.stop()


async def test_a_many_record_batch_at_the_end_is_not_a_lost_log(infra: Infra) -> None:
    async with _consuming(infra, 1, 200, b"line", linger_ms=50) as (topic, consumer):
        tp = TopicPartition(topic, 0)
        consumed = 0
        while consumed < 200:
            batches = await consumer.getmany(timeout_ms=1000)
            consumed += sum(len(records) for records in batches.values())
        assert await consumer.position(tp) == 200
        watch = PositionWatch("test", ends_every_s=0)
        for _ in range(3):  # past the end twice in a row would read it all again
            assert await watch.past_the_end(consumer, {tp}) == []


async def test_a_partition_waiting_its_turn_behind_another_is_not_stalled(infra: Infra) -> None:
    """A poll hands out a few hundred records, one partition's fetch after another: behind a
    partition with a long backlog the others wait with their records fetched. Taken for a
    stalled fetcher, the consumer was replaced over and over under a million-line batch."""
    async with _consuming(infra, 2, 4000, b"line" * 50, linger_ms=20) as (topic, consumer):
        watch = PositionWatch("test", stall_s=0.05)
        assigned = {TopicPartition(topic, 0), TopicPartition(topic, 1)}
        consumed, verdicts, queued = 0, [], 0
        while consumed < 4000:
            batches = await consumer.getmany(timeout_ms=1000, max_records=50)
            consumed += sum(len(records) for records in batches.values())
            queued += any(consumer.highwater(tp) for tp in assigned - set(batches))
            verdicts.append(watch.stalled(consumer, consumer.assignment(), batches))
            await asyncio.sleep(0.01)  # the handling time, which lets the stall window pass
        assert queued, "no poll left a partition waiting: the test proves nothing"
        assert not any(verdicts)
