"""Which traces are kept. A share of them whole (`OTEL_TRACES_SAMPLER_ARG`, 10% unless set),
chosen by trace id so that every service keeps or leaves the same traces; and, whatever share a
trace fell in, every request, message or job that failed or was slow, as its entry span.

A trace left out costs one recorded span per entry (the request, the message, the job), not
the dozen under it: the statements and calls beneath an entry that is only watched are never
recorded. Set `OTEL_TRACES_SAMPLER` (e.g. `parentbased_always_on`) to choose another sampler.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.sampling import (
    Decision,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanContext, SpanKind, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

DEFAULT_RATIO = 0.1
DEFAULT_SLOW_MS = 1000.0


class SampledOrWatched(Sampler):
    """Inside a kept trace, everything is kept; inside a trace left out, nothing below its entry
    is recorded. An entry (no parent, or a parent in another process) is kept by trace-id ratio,
    or else recorded only, for `WatchedEntries` to keep if it fails or is slow."""

    def __init__(self, ratio: float = DEFAULT_RATIO) -> None:
        self._ratio = TraceIdRatioBased(ratio)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        if parent.is_valid and parent.trace_flags.sampled:
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, parent.trace_state)
        if parent.is_valid and not parent.is_remote:
            return SamplingResult(Decision.DROP, None, parent.trace_state)
        chosen = self._ratio.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )
        if chosen.decision is Decision.RECORD_AND_SAMPLE:
            return chosen
        return SamplingResult(Decision.RECORD_ONLY, attributes, trace_state)

    def get_description(self) -> str:
        return f"SampledOrWatched({self._ratio.get_description()})"


class WatchedEntries(SpanProcessor):
    """Hands an entry span that was recorded but not sampled to `exporting` (the processor that
    exports sampled spans) when it failed or took at least `slow_ms`, marked with why."""

    def __init__(self, exporting: SpanProcessor, slow_ms: float = DEFAULT_SLOW_MS) -> None:
        self._exporting = exporting
        self._slow_ns = int(slow_ms * 1_000_000)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is None or span.context.trace_flags.sampled:
            return
        if span.status.status_code is StatusCode.ERROR:
            self._exporting.on_end(_sampled_copy(span, "error"))
        elif (span.end_time or 0) - (span.start_time or 0) >= self._slow_ns:
            self._exporting.on_end(_sampled_copy(span, "slow"))

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def _sampled_copy(span: ReadableSpan, why: str) -> ReadableSpan:
    context = span.context
    assert context is not None
    return ReadableSpan(
        name=span.name,
        context=SpanContext(
            context.trace_id,
            context.span_id,
            context.is_remote,
            TraceFlags(TraceFlags.SAMPLED),
            context.trace_state,
        ),
        parent=span.parent,
        resource=span.resource,
        attributes={**(span.attributes or {}), "jinhui.trace.kept": why},
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
