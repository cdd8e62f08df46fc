"""The consumer's watch for positions past the end of a log that is gone, on the real broker:
a partition whose last record batch holds many records is not taken for a lost log (Tansu
answers "latest" with where that batch begins; taken at its word, consumers re-read every topic
from the beginning over and over)."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.kafka.consumer.positions import PositionWatch
from shared.kafka.topics import Topic, ensure_topics
from tests.integration.conftest import Infra


async def test_a_many_record_batch_at_the_end_is_not_a_lost_log(infra: Infra) -> None:
    topic = f"test.positions.{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.bootstrap_servers, [Topic(topic, 1, "test", "")])
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap_servers, linger_ms=50)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=infra.bootstrap_servers, auto_offset_reset="earliest"
    )
    await producer.start()
    await consumer.start()
    try:
        sent = [await producer.send(topic, value=b"line", partition=0) for _ in range(200)]
        await asyncio.gather(*sent)  # one linger: a few batches of many records
        tp = TopicPartition(topic, 0)
        consumed = 0
        while consumed < 200:
            batches = await consumer.getmany(timeout_ms=1000)
            consumed += sum(len(records) for records in batches.values())
        assert await consumer.position(tp) == 200
        watch = PositionWatch("test", ends_every_s=0)
        for _ in range(3):  # past the end twice in a row would read it all again
            assert await watch.past_the_end(consumer, {tp}) == []
    finally:
        await consumer.stop()
        await producer.stop()
