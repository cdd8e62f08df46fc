"""Member life events that may change a household's situation bring its review forward."""

from __future__ import annotations

from services.hardship.service_layer.handlers import HardshipContext, bring_reviews_forward
from services.members.domain.events import (
    ChildBirthRegistered,
    MembershipEnded,
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


def member_events(ctx: HardshipContext) -> Subscription:
    async def on_life_event(hc: HandlerContext, message: InboundMessage) -> None:
        member_id = message.event.member_id  # type: ignore[attr-defined]
        await bring_reviews_forward(ctx, hc, member_id, WHY[message.envelope.type])

    return Subscription(
        group_id="hardship.members",
        topics=[MEMBERS_EVENTS],
        handlers=dict.fromkeys(WHY, on_life_event),
    )
