"""The HR inbound consumer: `hr.employees.v1` → member commands."""

from __future__ import annotations

from services.members.domain.hr import HR_EVENTS, HrEvent
from services.members.service_layer.handlers import MembersContext
from services.members.service_layer.hr import apply_hr_event, describe
from shared.errors import ConcurrencyConflict, DomainError
from shared.kafka.consumer import HandlerContext, InboundMessage, Rejected
from shared.kafka.topics import HR_EMPLOYEES
from shared.runtime import Subscription
from shared.telemetry.metrics import HR_EVENTS_APPLIED

GROUP = "members.hr"


def hr_events(ctx: MembersContext) -> Subscription:
    async def on_hr_event(hc: HandlerContext, message: InboundMessage) -> None:
        event = message.event
        assert isinstance(event, HrEvent)
        try:
            outcome = await apply_hr_event(ctx, hc, message.envelope.source, event)
        except ConcurrencyConflict:
            raise
        except DomainError as exc:
            raise Rejected(describe(exc)) from None
        HR_EVENTS_APPLIED.labels(event.event_type.rsplit(".", 1)[-1], outcome).inc()

    return Subscription(
        group_id=GROUP,
        topics=[HR_EMPLOYEES],
        handlers={cls.event_type: on_hr_event for cls in HR_EVENTS},
        dlq_seal=lambda value: ctx.vault.seal(value.decode(errors="replace")),
    )
