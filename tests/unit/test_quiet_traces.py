"""A background poll that finds nothing makes no trace; work, requests and messages do."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import SpanKind

from shared.telemetry.background import QuietPolls


def test_a_lone_database_call_is_dropped_and_everything_else_kept() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=QuietPolls(ALWAYS_ON))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")

    with tracer.start_as_current_span("UPDATE jinhui", kind=SpanKind.CLIENT):
        pass  # a sweep that found nothing
    with (
        tracer.start_as_current_span("voucher expiry"),  # a job that found work
        tracer.start_as_current_span("SELECT jinhui", kind=SpanKind.CLIENT),
    ):
        pass
    with (
        tracer.start_as_current_span("POST /v1/disbursements", kind=SpanKind.SERVER),
        tracer.start_as_current_span("INSERT jinhui", kind=SpanKind.CLIENT),
    ):
        pass
    with tracer.start_as_current_span("consume", kind=SpanKind.CONSUMER):
        pass

    kept = sorted(span.name for span in exporter.get_finished_spans())
    assert kept == [
        "INSERT jinhui",
        "POST /v1/disbursements",
        "SELECT jinhui",
        "consume",
        "voucher expiry",
    ]
    assert "QuietPolls" in provider.sampler.get_description()
