"""`<topic>.dlq`: a message that cannot be applied goes there with headers saying why and where
it came from, and the consumer goes on."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import (
    CorruptRecordException,
    InvalidMessageError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    UnsupportedForMessageFormatError,
)

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
        """Until the broker has it: the consumer commits past the record only after this. A
        record the broker would refuse for its size or form (sealing makes a value a third
        larger) is dead-lettered as a reference instead (`dlq_value: reference`): where it
        lies, why, and the SHA-256 of its value, so it can be read from its own topic while
        that keeps it. Only an unreachable broker is waited for; a refusal is never retried."""
        headers = self.headers(record, reason, detail)
        value = record.value
        if self._seal is not None and value is not None:
            value = self._seal(value)
            headers.append(("dlq_value", b"sealed"))
        if _size(value, headers, record.key) > DLQ_MAX_BYTES:
            value, headers = _reference(record, headers, "too_large")
        backoff = Backoff()
        while True:
            try:
                sent = await self._producer.send(
                    dlq(record.topic), key=record.key, value=value, headers=headers
                )
                await sent
                break
            except REFUSED as exc:
                if _is_reference(headers):
                    raise  # a reference of a few hundred bytes refused: the topic itself is wrong
                log.warning(
                    "dead letter refused by the broker; sending a reference instead",
                    extra={"error": type(exc).__name__, "topic": record.topic},
                )
                value, headers = _reference(record, headers, type(exc).__name__)
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


# A dead letter whole stays under this (the broker's and the producer's default limit is 1 MiB,
# headers and framing included); a larger one travels as a reference.
DLQ_MAX_BYTES = 900_000

# Errors that say "never this record": sending it again cannot succeed.
REFUSED = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    InvalidMessageError,
    CorruptRecordException,
    UnsupportedForMessageFormatError,
)


def _size(value: bytes | None, headers: list[tuple[str, bytes]], key: bytes | None) -> int:
    return len(value or b"") + len(key or b"") + sum(len(k) + len(v) for k, v in headers)


def _is_reference(headers: list[tuple[str, bytes]]) -> bool:
    return ("dlq_value", b"reference") in headers


def _reference(
    record: ConsumerRecord, headers: list[tuple[str, bytes]], why: str
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The record by where it lies and a digest of its value; only our own headers, cut short
    (the record's own may be what made it too large)."""
    digest = hashlib.sha256(record.value or b"").hexdigest()
    ours = [(k, v[:1000]) for k, v in headers if k.startswith("dlq_") and k != "dlq_value"]
    reference = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "value_bytes": len(record.value or b""),
        "value_sha256": digest,
        "why_reference": why,
    }
    return orjson.dumps(reference), [
        *ours,
        ("dlq_value", b"reference"),
        ("dlq_value_sha256", digest.encode()),
    ]
