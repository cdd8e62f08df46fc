"""The event envelope: CloudEvents 1.0 in Kafka binary content mode.

Attributes travel as `ce_*` headers, the JSON body is the event's data, and the Kafka key is
the partition key (the member id for member-scoped events), so every consumer sees one
member's events in order. `schemaversion` is a CloudEvents extension attribute.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.bindings.kafka import KafkaMessage, from_binary, to_binary
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import ValidationError

from shared.errors import describe_validation_error
from shared.events import DomainEvent, UnknownEventType, event_class

_FORMAT = JSONFormat()
CONTENT_TYPE = "application/json"
Headers = list[tuple[str, bytes]]
MAX_ID_LENGTH = 200  # the processed-message record's id column


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

    def to_kafka(self) -> tuple[bytes | None, bytes, Headers]:
        attributes: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "specversion": "1.0",
            "time": self.time,
            "datacontenttype": CONTENT_TYPE,
            "schemaversion": str(self.schema_version),
        }
        if self.subject:
            attributes["subject"] = self.subject
        message = to_binary(
            CloudEvent(attributes=attributes, data=self.data), _FORMAT, lambda _: self.partition_key
        )
        key = message.key.encode() if isinstance(message.key, str) else message.key
        return key, message.value, list(message.headers.items())

    @classmethod
    def from_kafka(cls, key: bytes | None, value: bytes | None, headers: Headers) -> Envelope:
        ce_headers = {k: v for k, v in headers if k.startswith("ce_") or k == "content-type"}
        if "ce_type" not in ce_headers or "ce_id" not in ce_headers:
            raise EnvelopeError("not a CloudEvent in binary mode: ce_id or ce_type header missing")
        if len(ce_headers["ce_id"]) > MAX_ID_LENGTH:
            raise EnvelopeError(f"ce_id is longer than {MAX_ID_LENGTH} characters")
        try:
            ce = from_binary(KafkaMessage(headers=ce_headers, key=key, value=value or b""), _FORMAT)
            data = ce.get_data()
        except (ValueError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EnvelopeError(f"unreadable CloudEvent: {type(exc).__name__}") from None
        except Exception as exc:  # the SDK raises its own validation errors
            raise EnvelopeError(f"invalid CloudEvent attributes: {type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise EnvelopeError("event data must be a JSON object")
        try:
            schema_version = int(ce.get_extension("schemaversion") or 1)
        except ValueError:
            raise EnvelopeError("schemaversion must be an integer") from None
        return cls(
            id=ce.get_id(),
            type=ce.get_type(),
            source=ce.get_source(),
            subject=ce.get_subject(),
            time=ce.get_time() or datetime.now(UTC),
            data=data,
            schema_version=schema_version,
            partition_key=key.decode() if isinstance(key, bytes) else key,
        )
