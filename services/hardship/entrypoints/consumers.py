"""Member life events: they bring the review of a household on file forward, put members not
on file on the early-warning watch list, and tell which union each member belongs to."""

from __future__ import annotations

from datetime import date

from services.hardship.service_layer import early_warning
from services.hardship.service_layer.handlers import HardshipContext, bring_reviews_forward
from services.members.contracts import (
    ChildBirthRegistered,
    MemberEvent,
    MemberRegistered,
    MemberRejoined,
    MembershipEnded,
    MemberTransferred,
    NewEmploymentFormRegistered,
)
from shared.kafka.consumer import HandlerContext, InboundMessage
from shared.kafka.topics import MEMBERS_EVENTS
from shared.runtime import Subscription

WHY = {
    ChildBirthRegistered.event_type: "a child was born",
    MembershipEnded.event_type: "the membership ended (job lost or left)",
    NewEmploymentFormRegistered.event_type: "now in a new form of employment",
}
WHERE = (MemberRegistered, MemberTransferred, MemberRejoined)


def _dated(event: MemberEvent, today: date) -> date:
    """The day the event took effect."""
    match event:
        case MembershipEnded():
            return event.effective_date
        case NewEmploymentFormRegistered():
            return event.registered_on
        case ChildBirthRegistered():
            return event.birth_date
    return today


def member_events(ctx: HardshipContext) -> Subscription:
    async def on_life_event(hc: HandlerContext, message: InboundMessage) -> None:
        event = message.event
        assert isinstance(event, MemberEvent)
        await bring_reviews_forward(ctx, hc, event.member_id, WHY[message.envelope.type])
        on = _dated(event, ctx.today())
        await early_warning.on_life_event(hc, event, on, message.envelope.id)

    async def on_where(hc: HandlerContext, message: InboundMessage) -> None:
        assert isinstance(message.event, MemberEvent)
        await early_warning.note_union(hc, message.event)

    return Subscription(
        group_id="hardship.members",
        topics=[MEMBERS_EVENTS],
        handlers={
            **dict.fromkeys(WHY, on_life_event),
            **{cls.event_type: on_where for cls in WHERE},
        },
    )
