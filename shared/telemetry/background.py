"""Traces of background work: a task's poll that finds nothing makes no trace; work it finds
is one trace, named for the task.

The rule sits in the sampler, so it holds for every loop, present and future: a database call
(a CLIENT span) outside any request, message or named job is a poll, and is dropped with the
statements under it. A loop that found work opens `job(...)` first; what it then does is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, Span, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

tracer = trace.get_tracer("jinhui.background")


def job(name: str, **attributes: Any) -> AbstractContextManager[Span]:
    """A background task found work: the statements it now runs are one trace."""
    return tracer.start_as_current_span(name, attributes=attributes)


class QuietPolls(Sampler):
    """Drops a CLIENT span that has no parent (a background poll); defers to `delegate` for
    everything else."""

    def __init__(self, delegate: Sampler) -> None:
        self._delegate = delegate

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
        if kind is SpanKind.CLIENT and not parent.is_valid:
            return SamplingResult(Decision.DROP)
        return self._delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"QuietPolls({self._delegate.get_description()})"
