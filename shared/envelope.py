"""The event envelope: CloudEvents 1.0 in Kafka binary content mode.

Attributes travel as `ce_*` headers, the JSON body is the event's data, and the Kafka key is
the partition key (the member id for member-scoped events), so every consumer sees one
member's events in order. `schemaversion` is a CloudEvents extension attribute.

The binding is a handful of headers, written and read here rather than through the
`cloudevents` SDK: the SDK built an event object per message, serialised the body only to throw
it away when the outbox asked for headers, and checked every attribute through objects of its
own — about a tenth of a consumer's CPU under a batch. `tests/unit/test_envelope.py` checks
that the SDK reads what this writes and that this reads what the SDK writes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from shared.errors import describe_validation_error
from shared.events import DomainEvent, UnknownEventType, event_class

CONTENT_TYPE = "application/json"
SPEC_VERSION = "1.0"
Headers = list[tuple[str, bytes]]
MAX_ID_LENGTH = 200  # the processed-message record's id column
_REQUIRED = ("ce_id", "ce_source", "ce_type", "ce_specversion")


class EnvelopeError(ValueError):
    """A message that is not a readable Jinhui event: it belongs in the dead-letter topic."""


@dataclass(frozen=True)
class Envelope:
    type: str
    source: str
    data: dict[str, Any]
    time: datetime
    schema_version: int = 1
    subject: str | None = None
    partition_key: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @classmethod
    def wrap(
        cls,
        event: DomainEvent,
        *,
        source: str,
        time: datetime,
        subject: str | None = None,
        partition_key: str | None = None,
        event_id: str | None = None,
    ) -> Envelope:
        return cls(
            id=event_id or str(uuid.uuid4()),
            type=event.event_type,
            source=source,
            data=event.to_data(),
            time=time,
            schema_version=event.schema_version,
            subject=subject,
            partition_key=partition_key,
        )

    def event(self) -> DomainEvent:
        """The typed event; raises EnvelopeError for unknown types, a schema version newer than
        this service knows, or invalid data. An older version is up-cast by its class."""
        try:
            cls = event_class(self.type)
        except UnknownEventType:
            raise EnvelopeError(f"unknown event type {self.type!r}") from None
        if self.schema_version > cls.schema_version or self.schema_version < 1:
            raise EnvelopeError(
                f"{self.type} schema version {self.schema_version} is not supported "
                f"(this service reads 1 to {cls.schema_version})"
            )
        try:
            return cls.model_validate(cls.upcast(self.data, self.schema_version))
        except UnknownEventType:
            raise EnvelopeError(f"unknown event type {self.type!r}") from None
        except ValidationError as exc:
            raise EnvelopeError(
                f"{self.type} fails validation: {describe_validation_error(exc)}"
            ) from None

    def attributes(self) -> dict[str, str]:
        """The `ce_*` attributes and the content type, as the Kafka headers' text."""
        attributes = {
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_specversion": SPEC_VERSION,
            "ce_time": _rfc3339(self.time),
            "content-type": CONTENT_TYPE,
            "ce_schemaversion": str(self.schema_version),
        }
        if self.subject:
            attributes["ce_subject"] = self.subject
        return attributes

    def headers(self) -> Headers:
        return [(name, value.encode()) for name, value in self.attributes().items()]

    def to_kafka(self) -> tuple[bytes | None, bytes, Headers]:
        key = self.partition_key.encode() if self.partition_key is not None else None
        return key, orjson.dumps(self.data), self.headers()

    @classmethod
    def from_kafka(cls, key: bytes | None, value: bytes | None, headers: Headers) -> Envelope:
        attributes = _attributes(headers)
        body = value or b""
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise EnvelopeError("unreadable CloudEvent: the body is not JSON") from None
        if not isinstance(data, dict):
            raise EnvelopeError("event data must be a JSON object")
        try:
            schema_version = int(attributes.get("ce_schemaversion") or 1)
        except ValueError:
            raise EnvelopeError("schemaversion must be an integer") from None
        return cls(
            id=attributes["ce_id"],
            type=attributes["ce_type"],
            source=attributes["ce_source"],
            subject=attributes.get("ce_subject"),
            time=_parse_time(attributes.get("ce_time")),
            data=data,
            schema_version=schema_version,
            partition_key=key.decode(errors="replace") if key is not None else None,
        )


def _attributes(headers: Headers) -> dict[str, str]:
    """The envelope's headers as text, checked for what every CloudEvent must carry."""
    found: dict[str, str] = {}
    for name, raw in headers:
        if name.startswith("ce_") or name == "content-type":
            try:
                found[name] = raw.decode() if isinstance(raw, bytes) else str(raw)
            except UnicodeDecodeError:
                raise EnvelopeError(f"unreadable CloudEvent: header {name} is not UTF-8") from None
    if "ce_type" not in found or "ce_id" not in found:
        raise EnvelopeError("not a CloudEvent in binary mode: ce_id or ce_type header missing")
    missing = [name for name in _REQUIRED if not found.get(name)]
    if missing:
        raise EnvelopeError(f"invalid CloudEvent attributes: {', '.join(missing)} missing")
    if found["ce_specversion"] != SPEC_VERSION:
        raise EnvelopeError(f"ce_specversion is not {SPEC_VERSION}")  # values are never echoed
    if len(found["ce_id"]) > MAX_ID_LENGTH:
        raise EnvelopeError(f"ce_id is longer than {MAX_ID_LENGTH} characters")
    content_type = found.get("content-type", CONTENT_TYPE)
    if content_type.split(";", 1)[0].strip() != CONTENT_TYPE:
        raise EnvelopeError(f"the content type is not {CONTENT_TYPE}")
    return found


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(value: str | None) -> datetime:
    """An absent time is the moment of reading, as the SDK did; a malformed one is refused."""
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise EnvelopeError("ce_time is not an RFC 3339 timestamp") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
