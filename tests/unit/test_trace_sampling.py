"""Traces by default: a share kept whole, the same share in every service, and every failed or
slow request or message kept as its entry span whatever share it fell in."""

from __future__ import annotations

import time

from opentelemetry import propagate
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from shared.telemetry.sampling import SampledOrWatched, WatchedEntries


def _provider(ratio: float, slow_ms: float = 1000) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=SampledOrWatched(ratio))
    exporting = SimpleSpanProcessor(exporter)
    provider.add_span_processor(exporting)
    provider.add_span_processor(WatchedEntries(exporting, slow_ms))
    return provider, exporter


def test_a_trace_left_out_records_nothing_below_its_entry_and_keeps_a_failure() -> None:
    provider, exporter = _provider(ratio=0.0)
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("GET /healthz", kind=SpanKind.SERVER) as quiet:
        with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT) as below:
            assert not below.is_recording()  # never built: the cost a share saves
        assert quiet.is_recording()  # the entry is watched
    assert exporter.get_finished_spans() == ()

    try:
        with tracer.start_as_current_span("POST /v1/disbursements", kind=SpanKind.SERVER):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    (failed,) = exporter.get_finished_spans()
    assert failed.name == "POST /v1/disbursements"
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes is not None and failed.attributes["jinhui.trace.kept"] == "error"


def test_a_slow_entry_is_kept_and_a_quick_one_is_not() -> None:
    provider, exporter = _provider(ratio=0.0, slow_ms=20)
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("quick", kind=SpanKind.SERVER):
        pass
    with tracer.start_as_current_span("slow", kind=SpanKind.SERVER):
        time.sleep(0.05)
    assert [s.name for s in exporter.get_finished_spans()] == ["slow"]
    assert exporter.get_finished_spans()[0].attributes["jinhui.trace.kept"] == "slow"  # type: ignore[index]


def test_services_keep_or_leave_the_same_traces() -> None:
    """Across a message the decision follows the trace id, so a trace is whole or absent."""
    producer, produced = _provider(ratio=0.5)
    consumer, consumed = _provider(ratio=0.5)
    for _ in range(200):
        carrier: dict[str, str] = {}
        with producer.get_tracer("p").start_as_current_span("publish", kind=SpanKind.PRODUCER):
            propagate.inject(carrier)
        with consumer.get_tracer("c").start_as_current_span(
            "process", context=propagate.extract(carrier), kind=SpanKind.CONSUMER
        ):
            pass
    sent = {s.context.trace_id for s in produced.get_finished_spans() if s.context}
    received = {s.context.trace_id for s in consumed.get_finished_spans() if s.context}
    assert sent == received and 40 < len(sent) < 160  # about half, and the same half


def test_everything_in_a_kept_trace_is_kept() -> None:
    provider, exporter = _provider(ratio=1.0)
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span("POST /v1/members", kind=SpanKind.SERVER),
        tracer.start_as_current_span("INSERT", kind=SpanKind.CLIENT),
    ):
        pass
    kept = exporter.get_finished_spans()
    assert sorted(s.name for s in kept) == ["INSERT", "POST /v1/members"]
    assert all("jinhui.trace.kept" not in (s.attributes or {}) for s in kept)
