from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.envelope import Envelope, EnvelopeError
from shared.events import DomainEvent


class Sample(DomainEvent):
    event_type = "jinhui.test.Sample"
    schema_version = 2
    member_id: str
    amount_fen: int


def test_round_trip_through_kafka_binary_mode() -> None:
    time = datetime(2026, 3, 1, 1, 2, 3, tzinfo=UTC)
    envelope = Envelope.wrap(
        Sample(member_id="m-1", amount_fen=50000),
        source="/jinhui/test",
        time=time,
        subject="sample-1",
        partition_key="m-1",
    )
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
