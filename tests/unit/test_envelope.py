from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.envelope import Envelope, EnvelopeError
from shared.events import DomainEvent


class Sample(DomainEvent):
    event_type = "jinhui.test.Sample"
    schema_version = 2
    member_id: str
    amount_fen: int


def _sample(time: datetime) -> Envelope:
    return Envelope.wrap(
        Sample(member_id="m-1", amount_fen=50000),
        source="/jinhui/test",
        time=time,
        subject="sample-1",
        partition_key="m-1",
    )


def test_round_trip_through_kafka_binary_mode() -> None:
    envelope = _sample(datetime(2026, 3, 1, 1, 2, 3, tzinfo=UTC))
    key, value, headers = envelope.to_kafka()
    names = dict(headers)
    assert key == b"m-1"
    assert names["ce_type"] == b"jinhui.test.Sample"
    assert names["ce_specversion"] == b"1.0"
    assert names["ce_schemaversion"] == b"2"
    assert names["content-type"] == b"application/json"
    back = Envelope.from_kafka(key, value, headers)
    assert back == envelope
    assert back.event() == Sample(member_id="m-1", amount_fen=50000)


def test_missing_ce_headers_is_an_envelope_error() -> None:
    with pytest.raises(EnvelopeError, match="ce_id or ce_type"):
        Envelope.from_kafka(b"k", b"{}", [("content-type", b"application/json")])


def test_invalid_data_names_the_field_not_the_value() -> None:
    envelope = Envelope(
        type="jinhui.test.Sample",
        source="/t",
        data={"member_id": "m", "amount_fen": "110101199003071234x"},
        time=datetime.now(UTC),
    )
    with pytest.raises(EnvelopeError) as raised:
        envelope.event()
    assert "amount_fen" in str(raised.value)
    assert "110101199003071234" not in str(raised.value)


def test_events_are_frozen() -> None:
    event = Sample(member_id="m", amount_fen=1)
    with pytest.raises(ValueError):
        event.amount_fen = 2  # type: ignore[misc]


def test_the_cloudevents_sdk_reads_what_is_written() -> None:
    """The binding is written by hand; the reference SDK must agree on every attribute."""
    from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
    from cloudevents.core.formats.json import JSONFormat

    time = datetime(2026, 3, 1, 1, 2, 3, 456000, tzinfo=UTC)
    envelope = _sample(time)
    key, value, headers = envelope.to_kafka()
    event = from_binary(KafkaMessage(headers=dict(headers), key=key, value=value), JSONFormat())
    assert event.get_id() == envelope.id
    assert event.get_type() == "jinhui.test.Sample"
    assert event.get_source() == "/jinhui/test"
    assert event.get_subject() == "sample-1"
    assert event.get_time() == time
    assert event.get_extension("schemaversion") == "2"
    assert event.get_data() == {"member_id": "m-1", "amount_fen": 50000}


def test_what_the_cloudevents_sdk_writes_is_read() -> None:
    from cloudevents.core.bindings.kafka import to_binary
    from cloudevents.core.formats.json import JSONFormat
    from cloudevents.core.v1.event import CloudEvent

    time = datetime(2026, 3, 1, 1, 2, 3, tzinfo=UTC)
    attributes = {
        "id": "e-1",
        "source": "/hr",
        "type": "jinhui.test.Sample",
        "specversion": "1.0",
        "time": time,
        "datacontenttype": "application/json",
        "schemaversion": "2",
        "subject": "s-1",
    }
    data = {"member_id": "m-1", "amount_fen": 1}
    message = to_binary(CloudEvent(attributes=attributes, data=data), JSONFormat(), lambda _: "m-1")
    key = message.key.encode() if isinstance(message.key, str) else message.key
    back = Envelope.from_kafka(key, message.value, list(message.headers.items()))
    assert (back.id, back.type, back.source, back.subject) == (
        "e-1",
        Sample.event_type,
        "/hr",
        "s-1",
    )
    assert back.time == time
    assert back.partition_key == "m-1"
    assert back.event() == Sample(member_id="m-1", amount_fen=1)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h: {**h, "ce_specversion": b"0.3"}, "ce_specversion is not 1.0"),
        (lambda h: {k: v for k, v in h.items() if k != "ce_source"}, "ce_source missing"),
        (lambda h: {**h, "ce_time": b"yesterday"}, "RFC 3339"),
        (lambda h: {**h, "content-type": b"application/xml"}, "content type"),
        (lambda h: {**h, "ce_schemaversion": b"two"}, "schemaversion"),
        (lambda h: {**h, "ce_type": b"\xff"}, "not UTF-8"),
    ],
)
def test_a_malformed_envelope_says_what_is_wrong(change: Any, reason: str) -> None:
    envelope = Envelope.wrap(
        Sample(member_id="m-1", amount_fen=1), source="/t", time=datetime.now(UTC)
    )
    key, value, headers = envelope.to_kafka()
    with pytest.raises(EnvelopeError, match=reason):
        Envelope.from_kafka(key, value, list(change(dict(headers)).items()))


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b""])
def test_a_body_that_is_not_a_json_object_is_refused(body: bytes) -> None:
    _, _, headers = Envelope.wrap(
        Sample(member_id="m-1", amount_fen=1), source="/t", time=datetime.now(UTC)
    ).to_kafka()
    with pytest.raises(EnvelopeError):
        Envelope.from_kafka(b"m-1", body, headers)
