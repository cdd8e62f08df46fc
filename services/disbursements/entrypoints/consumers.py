"""Kafka consumers of disbursements: entitlements' decisions and union settings, members,
hardship relief, and payroll's answers."""

from __future__ import annotations

from services.disbursements.domain.model import UnknownEntry
from services.disbursements.domain.payroll import (
    BenefitPaid,
    BenefitPaymentFailed,
    PayrollResult,
)
from services.disbursements.service_layer.directory import (
    note_member,
    note_registrations,
    note_union_finances,
    note_union_standard,
)
from services.disbursements.service_layer.handlers import (
    DisbursementsContext,
    decided,
    decided_many,
    pay_relief,
)
from services.disbursements.service_layer.payments import answered
from services.entitlements.contracts import (
    EntitlementRejected,
    EntitlementReserved,
    UnionFinancesRecorded,
    UnionStandardSet,
)
from services.hardship.contracts import ReliefGranted
from services.members.contracts import (
    MemberDetailsCorrected,
    MemberEvent,
    MemberRegistered,
    MemberRejoined,
    MembershipEnded,
    MemberTransferred,
)
from shared.errors import ConcurrencyConflict, Conflict
from shared.kafka.consumer import HandlerContext, InboundMessage, Rejected, events_of
from shared.kafka.topics import (
    ENTITLEMENTS_EVENTS,
    HARDSHIP_EVENTS,
    MEMBERS_EVENTS,
    PAYROLL_RESULTS,
)
from shared.runtime import Subscription


def entitlement_events() -> Subscription:
    """The saga's disbursements side: approve or reject, and issue on approval."""

    async def on_decision(hc: HandlerContext, message: InboundMessage) -> None:
        event = message.event
        assert isinstance(event, EntitlementReserved | EntitlementRejected)
        await decided(hc, event)

    async def on_decisions(hc: HandlerContext, messages: list[InboundMessage]) -> None:
        events = []
        for m in messages:
            assert isinstance(m.event, EntitlementReserved | EntitlementRejected)
            events.append(m.event)
        await decided_many(hc, events)

    async def on_finances(hc: HandlerContext, message: InboundMessage) -> None:
        assert isinstance(message.event, UnionFinancesRecorded)
        await note_union_finances(hc, message.event)

    async def on_standard(hc: HandlerContext, message: InboundMessage) -> None:
        assert isinstance(message.event, UnionStandardSet)
        await note_union_standard(hc, message.event)

    return Subscription(
        group_id="disbursements.entitlements",
        topics=[ENTITLEMENTS_EVENTS],
        handlers={
            EntitlementReserved.event_type: on_decision,
            EntitlementRejected.event_type: on_decision,
            UnionStandardSet.event_type: on_standard,
            UnionFinancesRecorded.event_type: on_finances,
        },
        bulk_handlers={
            EntitlementReserved.event_type: on_decisions,
            EntitlementRejected.event_type: on_decisions,
        },
    )


def member_events() -> Subscription:
    async def on_member(hc: HandlerContext, message: InboundMessage) -> None:
        assert isinstance(message.event, MemberEvent)
        await note_member(hc, message.event)

    kinds = (
        MemberRegistered,
        MemberTransferred,
        MembershipEnded,
        MemberRejoined,
        MemberDetailsCorrected,
    )

    async def on_registrations(hc: HandlerContext, messages: list[InboundMessage]) -> None:
        await note_registrations(hc, events_of(messages, MemberRegistered))

    return Subscription(
        group_id="disbursements.members",
        topics=[MEMBERS_EVENTS],
        handlers={k.event_type: on_member for k in kinds},
        bulk_handlers={MemberRegistered.event_type: on_registrations},
    )


def hardship_events(ctx: DisbursementsContext) -> Subscription:
    """Approved hardship relief is paid as a disbursement (benefit `hardship_relief`)."""

    async def on_relief(hc: HandlerContext, message: InboundMessage) -> None:
        event = message.event
        assert isinstance(event, ReliefGranted)
        await pay_relief(ctx, hc, event)

    return Subscription(
        group_id="disbursements.hardship",
        topics=[HARDSHIP_EVENTS],
        handlers={ReliefGranted.event_type: on_relief},
    )


def payroll_results() -> Subscription:
    """Payroll's answers: an entry paid or failed. One naming nothing Jinhui sent, or
    contradicting an earlier answer, can never apply: it is dead-lettered with the reason."""

    async def on_answer(hc: HandlerContext, message: InboundMessage) -> None:
        assert isinstance(message.event, PayrollResult)
        try:
            await answered(hc, message.event)
        except UnknownEntry as exc:
            raise Rejected(f"payroll.unknown-entry: {exc}") from None
        except ConcurrencyConflict:
            raise  # another writer first: retried
        except Conflict as exc:
            raise Rejected(f"{exc.extensions.get('rule')}: {exc.detail}") from None

    return Subscription(
        group_id="disbursements.payroll",
        topics=[PAYROLL_RESULTS],
        handlers={BenefitPaid.event_type: on_answer, BenefitPaymentFailed.event_type: on_answer},
    )
