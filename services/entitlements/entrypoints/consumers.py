"""Kafka consumers of the entitlements service."""

from __future__ import annotations

from datetime import date

from services.disbursements.contracts import (
    DisbursementCancelled,
    DisbursementIssued,
    DisbursementRequested,
    DisbursementReversed,
)
from services.entitlements.service_layer.context import EntitlementsContext
from services.entitlements.service_layer.decisions import reserve, reserve_many
from services.entitlements.service_layer.handlers import (
    note_hardship,
    note_member_event,
    note_member_events,
)
from services.entitlements.service_layer.settlements import Settlement, commit_many, settle
from services.hardship.contracts import (
    HardshipEvent,
    HardshipLevelChanged,
    HouseholdEnteredRegister,
    HouseholdExitedRegister,
)
from services.members import contracts as member_events_module
from services.members.contracts import MemberEvent
from shared.kafka.consumer import HandlerContext, InboundMessage, events_with_ids
from shared.kafka.topics import DISBURSEMENTS_EVENTS, HARDSHIP_EVENTS, MEMBERS_EVENTS
from shared.runtime import Subscription

MEMBER_EVENT_TYPES = [
    cls.event_type
    for cls in vars(member_events_module).values()
    if isinstance(cls, type) and issubclass(cls, MemberEvent) and cls.event_type
]


def member_events(ctx: EntitlementsContext) -> Subscription:
    """Every member life event becomes a fact on the member's profile."""

    async def on_member_event(hc: HandlerContext, message: InboundMessage) -> None:
        assert isinstance(message.event, MemberEvent)
        await note_member_event(ctx, hc, message.event, message.envelope.id)

    async def on_member_events(hc: HandlerContext, messages: list[InboundMessage]) -> None:
        await note_member_events(ctx, hc, events_with_ids(messages, MemberEvent))

    return Subscription(
        group_id="entitlements.members",
        topics=[MEMBERS_EVENTS],
        handlers=dict.fromkeys(MEMBER_EVENT_TYPES, on_member_event),
        bulk_handlers=dict.fromkeys(MEMBER_EVENT_TYPES, on_member_events),
    )


def hardship_events() -> Subscription:
    """Who is on the hardship register (for summer-camp eligibility)."""

    async def on_register_change(hc: HandlerContext, message: InboundMessage) -> None:
        event = message.event
        assert isinstance(event, HardshipEvent)
        on_register = not isinstance(event, HouseholdExitedRegister)
        await note_hardship(hc, event.member_ids, on_register, _dated(event), message.envelope.id)

    return Subscription(
        group_id="entitlements.hardship",
        topics=[HARDSHIP_EVENTS],
        handlers={
            cls.event_type: on_register_change
            for cls in (HouseholdEnteredRegister, HardshipLevelChanged, HouseholdExitedRegister)
        },
    )


def _dated(event: HardshipEvent) -> date:
    """The day a register change took effect."""
    match event:
        case HouseholdEnteredRegister():
            return event.entered_on
        case HardshipLevelChanged():
            return event.changed_on
        case HouseholdExitedRegister():
            return event.exited_on
    raise TypeError(type(event).__name__)


def _issued(event: DisbursementIssued) -> Settlement:
    return Settlement(
        member_id=event.member_id,
        year=event.year or event.business_date.year,
        disbursement_id=event.disbursement_id,
        outcome="issued",
        on=event.business_date,
    )


# Long on purpose: one subscription's handlers read together, each a few lines.
def disbursement_events(ctx: EntitlementsContext) -> Subscription:
    """The saga's entitlements side: decide requests, commit on issue, release on cancel."""

    async def on_requested(hc: HandlerContext, message: InboundMessage) -> None:
        assert isinstance(message.event, DisbursementRequested)
        await reserve(ctx, hc, message.event, source=message.envelope.id)

    async def on_issued(hc: HandlerContext, message: InboundMessage) -> None:
        event = message.event
        assert isinstance(event, DisbursementIssued)
        await settle(ctx, hc.events, _issued(event), source=message.envelope.id)

    async def on_given_back(hc: HandlerContext, message: InboundMessage) -> None:
        """Cancelled (a reservation released) or reversed (a use given back)."""
        event = message.event
        assert isinstance(event, DisbursementCancelled | DisbursementReversed)
        given_back = Settlement(
            member_id=event.member_id,
            year=event.year,
            disbursement_id=event.disbursement_id,
            outcome="reversed" if isinstance(event, DisbursementReversed) else "cancelled",
            reason=event.reason,
            on=event.on,
            unpaid=isinstance(event, DisbursementReversed) and event.unpaid,
        )
        await settle(ctx, hc.events, given_back, source=message.envelope.id)

    async def on_many_requested(hc: HandlerContext, messages: list[InboundMessage]) -> None:
        await reserve_many(ctx, hc, events_with_ids(messages, DisbursementRequested))

    async def on_many_issued(hc: HandlerContext, messages: list[InboundMessage]) -> None:
        issued = []
        for m in messages:
            assert isinstance(m.event, DisbursementIssued)
            issued.append((_issued(m.event), m.envelope.id))
        await commit_many(ctx, hc.events, issued)

    return Subscription(
        group_id="entitlements.disbursements",
        topics=[DISBURSEMENTS_EVENTS],
        handlers={
            DisbursementRequested.event_type: on_requested,
            DisbursementIssued.event_type: on_issued,
            DisbursementCancelled.event_type: on_given_back,
            DisbursementReversed.event_type: on_given_back,
        },
        bulk_handlers={
            DisbursementRequested.event_type: on_many_requested,
            DisbursementIssued.event_type: on_many_issued,
        },
    )
