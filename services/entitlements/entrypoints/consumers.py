"""Kafka consumers of the entitlements service."""

from __future__ import annotations

from services.disbursements.domain.events import (
    DisbursementCancelled,
    DisbursementIssued,
    DisbursementRequested,
)
from services.entitlements.service_layer.handlers import (
    EntitlementsContext,
    open_ledger_for_new_member,
    reserve,
    settle,
)
from services.members.domain.events import MemberRegistered
from shared.kafka.consumer import HandlerContext, InboundMessage
from shared.kafka.topics import DISBURSEMENTS_EVENTS, MEMBERS_EVENTS
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


def disbursement_events(ctx: EntitlementsContext) -> Subscription:
    """The saga's entitlements side: decide requests, commit on issue, release on cancel."""

    async def on_requested(hc: HandlerContext, message: InboundMessage) -> None:
        assert isinstance(message.event, DisbursementRequested)
        await reserve(ctx, hc.events, message.event)

    async def on_issued(hc: HandlerContext, message: InboundMessage) -> None:
        event = message.event
        assert isinstance(event, DisbursementIssued)
        await settle(
            hc.events, event.member_id, event.business_date.year, event.disbursement_id, issued=True
        )

    async def on_cancelled(hc: HandlerContext, message: InboundMessage) -> None:
        event = message.event
        assert isinstance(event, DisbursementCancelled)
        await settle(
            hc.events,
            event.member_id,
            event.year,
            event.disbursement_id,
            issued=False,
            reason=event.reason,
        )

    return Subscription(
        group_id="entitlements.disbursements",
        topics=[DISBURSEMENTS_EVENTS],
        handlers={
            DisbursementRequested.event_type: on_requested,
            DisbursementIssued.event_type: on_issued,
            DisbursementCancelled.event_type: on_cancelled,
        },
    )
