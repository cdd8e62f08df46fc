"""OpenTelemetry tracing and JSON logs with trace ids.

The tracer provider is process-wide: the first service to configure it names the resource.
OTLP export is on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, so a laptop needs nothing.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from opentelemetry import trace
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.environment_variables import (
    OTEL_TRACES_SAMPLER,
    OTEL_TRACES_SAMPLER_ARG,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Sampler, _get_from_env_or_default
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.telemetry.background import QuietPolls
from shared.telemetry.privacy import QueryValuesDropped, ScrubbingExporter, ScrubbingFilter
from shared.telemetry.sampling import (
    DEFAULT_RATIO,
    DEFAULT_SLOW_MS,
    SampledOrWatched,
    WatchedEntries,
)


def configure_tracing(
    service_name: str,
    otlp_endpoint: str | None = None,
    *extra: SpanProcessor,
    slow_ms: float = DEFAULT_SLOW_MS,
) -> TracerProvider:
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        provider = current
    else:
        provider = TracerProvider(
            resource=Resource.create({"service.name": service_name}),
            sampler=QuietPolls(_sampler()),
        )
        if otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces")
            exporting = BatchSpanProcessor(ScrubbingExporter(exporter))
            provider.add_span_processor(exporting)
            provider.add_span_processor(WatchedEntries(exporting, slow_ms))
        trace.set_tracer_provider(provider)
    if not getattr(provider, "_jinhui_query_values_dropped", False):
        provider.add_span_processor(QueryValuesDropped())
        provider._jinhui_query_values_dropped = True  # type: ignore[attr-defined]
    for processor in extra:
        provider.add_span_processor(processor)
    # Kafka is traced by the outbox relay and the consumer runner themselves (a span per batch
    # published, per chunk consumed, per message handled); the aiokafka instrumentation would
    # add two spans to every message, which a batch of a hundred thousand lines cannot afford.
    return provider


def _sampler() -> Sampler:
    """`OTEL_TRACES_SAMPLER` when it is set; otherwise a share of traces whole (by
    `OTEL_TRACES_SAMPLER_ARG`, 10%) and every failed or slow entry (see `sampling.py`)."""
    if os.environ.get(OTEL_TRACES_SAMPLER):
        return _get_from_env_or_default()
    try:
        ratio = float(os.environ.get(OTEL_TRACES_SAMPLER_ARG) or DEFAULT_RATIO)
    except ValueError:
        ratio = DEFAULT_RATIO
    return SampledOrWatched(min(max(ratio, 0.0), 1.0))


def instrument_engine(engine: AsyncEngine) -> None:
    """The first call instruments this engine and wraps SQLAlchemy's engine factories, so the
    engines created after it (several services in one process: tests, the demo) are traced
    too; calling it again would only warn."""
    instrumentor = SQLAlchemyInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(engine=engine.sync_engine, enable_commenter=False)


class _TraceIds(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.service = self._service
        if ctx.is_valid:
            record.trace_id = format(ctx.trace_id, "032x")
            record.span_id = format(ctx.span_id, "016x")
        return True


class ClientNoise(logging.Filter):
    """The Kafka client logs an outage at ERROR on every poll of every connection (107,000
    lines in one ten-minute outage): what the supervisor already reports once per task as a
    warning. Each distinct client message passes at most once a minute, as a warning, with how
    many like it were held back."""

    def __init__(self, every_s: float = 60.0) -> None:
        super().__init__()
        self._every_s = every_s
        self._last: dict[tuple[str, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("aiokafka") or record.levelno < logging.WARNING:
            return True
        key = (record.name, record.msg)
        now = time.monotonic()
        last, held = self._last.get(key, (float("-inf"), 0))
        if now - last < self._every_s:
            self._last[key] = (last, held + 1)
            return False
        if len(self._last) > 1000:
            self._last.clear()
        self._last[key] = (now, 0)
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text = None, None  # a connection error, not a bug
        if held:
            record.held_back = held
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """One JSON object per line on stderr, with the trace and span of the work it speaks of."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_TraceIds(service))
    handler.addFilter(ScrubbingFilter())
    handler.addFilter(ClientNoise())
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "asctime": "time"},
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
