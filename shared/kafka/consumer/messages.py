"""What a consumer's handlers see, and what its parts pass to each other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession

from shared.envelope import Envelope
from shared.events import DomainEvent
from shared.eventstore.store import EventStore

E = TypeVar("E", bound=DomainEvent)


@dataclass(frozen=True)
class InboundMessage:
    envelope: Envelope
    event: DomainEvent
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class HandlerContext:
    """What a handler works with: the open transaction and the service's event store in it."""

    session: AsyncSession
    events: EventStore


Handler = Callable[[HandlerContext, InboundMessage], Awaitable[None]]
# Several consecutive messages at once, in order: the same effect as the `Handler` of each
# message's type applied to each in turn, in fewer statements.
BulkHandler = Callable[[HandlerContext, list[InboundMessage]], Awaitable[None]]


class Rejected(Exception):
    """Raised by a handler for a message that can never succeed: it is dead-lettered."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Work:
    """A decoded message with the handler that will apply it."""

    record: ConsumerRecord
    handler: Handler
    message: InboundMessage


@dataclass(frozen=True)
class Skip:
    """A message with nothing to apply: ignored on purpose (no reason) or to be dead-lettered."""

    record: ConsumerRecord
    reason: str | None = None
    detail: str = ""


# One message through the handling chain, answering its outcome for the metrics:
# processed, duplicate or dead_lettered.
Step = Callable[[Work], Awaitable[str]]
# Wraps a step with one concern (tracing, counting, retrying), as faststream's middlewares do.
Middleware = Callable[[Step], Step]


def chain(step: Step, *middlewares: Middleware) -> Step:
    """The first middleware is the outermost."""
    for middleware in reversed(middlewares):
        step = middleware(step)
    return step


def events_of(messages: Sequence[InboundMessage], kind: type[E]) -> list[E]:
    """The messages' events as the type a bulk handler was subscribed for."""
    events = []
    for m in messages:
        if not isinstance(m.event, kind):
            raise TypeError(f"{m.envelope.type} routed to a handler of {kind.__name__}")
        events.append(m.event)
    return events


def events_with_ids(messages: Sequence[InboundMessage], kind: type[E]) -> list[tuple[E, str]]:
    """`events_of`, each beside its message id (the source a handler records)."""
    events = events_of(messages, kind)
    return [(e, m.envelope.id) for e, m in zip(events, messages, strict=True)]
