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
