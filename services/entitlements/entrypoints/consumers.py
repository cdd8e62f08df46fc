"""Kafka consumers of the entitlements service."""

from __future__ import annotations

from services.entitlements.service_layer.handlers import (
    EntitlementsContext,
    open_ledger_for_new_member,
)
from services.members.domain.events import MemberRegistered
from shared.kafka.consumer import HandlerContext, InboundMessage
from shared.kafka.topics import MEMBERS_EVENTS
from shared.runtime import Subscription


def member_events(ctx: EntitlementsContext) -> Subscription:
    async def on_member_registered(hc: HandlerContext, message: InboundMessage) -> None:
        assert isinstance(message.event, MemberRegistered)
        await open_ledger_for_new_member(ctx, hc.events, message.event, message.envelope.id)

    return Subscription(
        group_id="entitlements.members",
        topics=[MEMBERS_EVENTS],
        handlers={MemberRegistered.event_type: on_member_registered},
    )
