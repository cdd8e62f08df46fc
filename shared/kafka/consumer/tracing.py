"""Spans around handling, children of (or linked to) the producer's trace from W3C headers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

from aiokafka import ConsumerRecord
from opentelemetry import propagate, trace

from shared.kafka.consumer.messages import Middleware, Step, Work

tracer = trace.get_tracer("jinhui.consumer")


def _text_headers(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in reversed(record.headers or ())}


def process_span(group_id: str, work: Work) -> AbstractContextManager[trace.Span]:
    """The message's process span, a child of the producer's trace."""
    return tracer.start_as_current_span(
        f"{group_id} process {work.message.envelope.type}",
        context=propagate.extract(_text_headers(work.record)),
        kind=trace.SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": work.record.topic,
            "messaging.kafka.partition": work.record.partition,
            "messaging.kafka.offset": work.record.offset,
            "messaging.message.id": work.message.envelope.id,
            "messaging.consumer.group.name": group_id,
        },
    )


@contextmanager
def chunk_span(group_id: str, work: Sequence[Work]) -> Iterator[trace.Span]:
    """One span for messages handled together, linked to every message's producer trace."""
    contexts = (
        trace.get_current_span(propagate.extract(_text_headers(w.record))).get_span_context()
        for w in work
    )
    with tracer.start_as_current_span(
        f"{group_id} process {len(work)} messages",
        kind=trace.SpanKind.CONSUMER,
        links=[trace.Link(c) for c in contexts if c.is_valid],
        attributes={
            "messaging.system": "kafka",
            "messaging.batch.message_count": len(work),
            "messaging.consumer.group.name": group_id,
        },
    ) as span:
        yield span


def traced(group_id: str) -> Middleware:
    def middleware(step: Step) -> Step:
        async def run(work: Work) -> str:
            with process_span(group_id, work) as span:
                outcome = await step(work)
                if outcome == "dead_lettered":  # kept in traces like a failed request
                    span.set_status(trace.StatusCode.ERROR, "dead-lettered")
                return outcome

        return run

    return middleware
