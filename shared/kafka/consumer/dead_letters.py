"""`<topic>.dlq`: a message that cannot be applied goes there with headers saying why and where
it came from, and the consumer goes on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError

from shared.backoff import Backoff
from shared.kafka.topics import dlq
from shared.telemetry.metrics import DEAD_LETTERED

log = logging.getLogger(__name__)


class DeadLetters:
    def __init__(
        self,
        producer: AIOKafkaProducer,
        group_id: str,
        seal: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self._producer = producer
        self._group = group_id
        # Encrypts a dead letter's value where it may hold personal data (HR events carry ID
        # numbers): an operator opens it with `jinhui dlq open`.
        self._seal = seal

    def headers(self, record: ConsumerRecord, reason: str, detail: str) -> list[tuple[str, bytes]]:
        """The record's own headers (but an earlier dead-lettering's) and why it is here."""
        own = [h for h in (record.headers or ()) if not h[0].startswith("dlq_")]
        return [
            *own,
            ("dlq_reason", reason.encode()),
            ("dlq_detail", detail[:1000].encode()),
            ("dlq_source_topic", record.topic.encode()),
            ("dlq_source_partition", str(record.partition).encode()),
            ("dlq_source_offset", str(record.offset).encode()),
            ("dlq_consumer_group", self._group.encode()),
            ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
        ]

    async def send(self, record: ConsumerRecord, reason: str, detail: str) -> None:
        """Until the broker has it: the consumer commits past the record only after this."""
        headers = self.headers(record, reason, detail)
        value = record.value
        if self._seal is not None and value is not None:
            value = self._seal(value)
            headers.append(("dlq_value", b"sealed"))
        backoff = Backoff()
        while True:
            try:
                sent = await self._producer.send(
                    dlq(record.topic), key=record.key, value=value, headers=headers
                )
                await sent
                break
            except KafkaError as exc:
                log.warning(
                    "dead-letter topic unreachable, retrying", extra={"error": type(exc).__name__}
                )
                await asyncio.sleep(backoff.next_delay())
        DEAD_LETTERED.labels(self._group, record.topic, reason).inc()
        log.warning(
            "message dead-lettered",
            extra={
                "group": self._group,
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "reason": reason,
                "detail": detail,
            },
        )
