from __future__ import annotations

import io
import json
import logging

from opentelemetry.sdk.trace import TracerProvider

from shared.telemetry.setup import configure_logging


def test_json_log_lines_carry_the_trace_id() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("members")
        stream = io.StringIO()
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        tracer = TracerProvider().get_tracer("t")
        with tracer.start_as_current_span("work") as span:
            logging.getLogger("jinhui.test").warning("ledger opened", extra={"member_id": "m-1"})
        line = json.loads(stream.getvalue().splitlines()[-1])
        assert line["message"] == "ledger opened"
        assert line["level"] == "WARNING"
        assert line["service"] == "members"
        assert line["member_id"] == "m-1"
        assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    finally:
        root.handlers, _ = saved
        root.setLevel(saved[1])


def test_the_kafka_client_is_heard_once_a_minute_as_a_warning() -> None:
    """An outage once wrote 107,000 ERROR lines from the Kafka client in ten minutes."""
    from shared.telemetry.setup import ClientNoise

    noise = ClientNoise(every_s=60)

    def record(name: str, level: int, args: tuple[object, ...]) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, "Unable connect to node %s", args, None)

    first = record("aiokafka", logging.ERROR, (1,))
    assert noise.filter(first) and first.levelname == "WARNING"
    passed = [noise.filter(record("aiokafka", logging.ERROR, (n,))) for n in range(1000)]
    assert not any(passed)
    ours = record("shared.supervisor", logging.ERROR, ())
    assert noise.filter(ours) and ours.levelname == "ERROR"  # only the client is quieted
