"""From a Kafka record to the work it asks for, without I/O: what cannot be applied says why."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from aiokafka import ConsumerRecord

from shared.envelope import Envelope, EnvelopeError
from shared.kafka.consumer.messages import Handler, InboundMessage, Skip, Work
from shared.kafka.topics import KEY_FIELDS, key_of


def decode(
    record: ConsumerRecord, handlers: Mapping[str, Handler], ignores: Collection[str]
) -> Work | Skip:
    """A known type this consumer has no use for is skipped on purpose; anything else that
    cannot be applied (undecodable, unknown type, invalid, keyed wrongly) is to be
    dead-lettered with its reason."""
    try:
        envelope = Envelope.from_kafka(record.key, record.value, list(record.headers or ()))
    except EnvelopeError as exc:
        return Skip(record, "undecodable", str(exc))
    handler = handlers.get(envelope.type)
    if handler is None:
        if envelope.type in ignores:
            return Skip(record)
        return Skip(record, "unknown-type", f"no consumer here knows the type {envelope.type!r}")
    try:
        event = envelope.event()
    except EnvelopeError as exc:
        return Skip(record, "invalid", str(exc))
    expected = key_of(record.topic, event)
    if expected is not None and envelope.partition_key != expected:
        detail = f"the message key is not the event's {KEY_FIELDS[record.topic]}"
        return Skip(record, "key-mismatch", detail)
    message = InboundMessage(envelope, event, record.topic, record.partition, record.offset)
    return Work(record, handler, message)
