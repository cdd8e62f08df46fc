"""What entitlements does with what it hears, and the questions it answers."""

from __future__ import annotations

from dataclasses import dataclass

from services.disbursements.domain.events import DisbursementRequested
from services.entitlements.adapters.repository import ledger_repository
from services.entitlements.domain.events import EntitlementRejected
from services.entitlements.domain.ledger import Decision, MemberLedger, ledger_id
from services.entitlements.domain.policy import PolicyBook
from services.members.domain.events import MemberRegistered
from shared.clock import Clock, business_date
from shared.errors import ConcurrencyConflict, InvalidInput
from shared.eventstore.store import EventStore
from shared.runtime import Runtime
from shared.telemetry.metrics import DECISIONS
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class EntitlementsContext:
    policies: PolicyBook
    clock: Clock


async def open_ledger_for_new_member(
    ctx: EntitlementsContext, store: EventStore, event: MemberRegistered, source_event_id: str
) -> None:
    """A new member's ledger for the current year opens with the caps in force today."""
    today = business_date(ctx.clock)
    repo = ledger_repository(store)
    ledger = repo.new(ledger_id(event.member_id, today.year))
    existing = await repo.get(ledger_id(event.member_id, today.year))
    if existing is not None:
        return
    ledger.open(
        member_id=event.member_id,
        year=today.year,
        base_union=event.base_union,
        policy=ctx.policies.in_force(today),
        source_event_id=source_event_id,
    )
    await repo.save(ledger)


async def read_ledger(store: EventStore, member_id: str, year: int) -> MemberLedger | None:
    return await ledger_repository(store).get(ledger_id(member_id, year))


async def reserve(
    ctx: EntitlementsContext, store: EventStore, request: DisbursementRequested
) -> Decision:
    """Decide one disbursement request against the member's ledger for its business year."""
    year = request.business_date.year
    repo = ledger_repository(store)
    ledger = await repo.get(ledger_id(request.member_id, year), for_update=True)
    try:
        policy = ctx.policies.in_force(request.business_date)
    except LookupError:
        policy = None
    if ledger is None or policy is None:
        why = (
            f"no policy governs {request.business_date.isoformat()}"
            if policy is None
            else f"the member has no {year} ledger (not registered with entitlements)"
        )
        return await _reject_without_ledger(store, request, why)
    decision = ledger.reserve(
        disbursement_id=request.disbursement_id,
        benefit=request.benefit,
        amount_fen=request.amount_fen,
        rule=policy.member_benefits.get(request.benefit),  # type: ignore[call-overload]
        policy_version=policy.version,
    )
    await repo.save(ledger)
    DECISIONS.labels(decision.status, decision.event.clause).inc()
    return decision


async def _reject_without_ledger(
    store: EventStore, request: DisbursementRequested, reason: str
) -> Decision:
    stream = f"decision-{request.disbursement_id}"
    existing = await store.load(stream)
    if existing:
        event = existing[0].event
        assert isinstance(event, EntitlementRejected)
        return Decision("rejected", event)
    event = EntitlementRejected(
        disbursement_id=request.disbursement_id,
        member_id=request.member_id,
        year=request.business_date.year,
        benefit=request.benefit,
        amount_fen=request.amount_fen,
        clause="-",
        policy_version="-",
        reason=reason,
        remaining_fen=None,
        remaining_count=None,
    )
    await store.append(stream, 0, [event], partition_key=request.member_id)
    DECISIONS.labels("rejected", "-").inc()
    return Decision("rejected", event)


async def settle(
    store: EventStore,
    member_id: str,
    year: int,
    disbursement_id: str,
    *,
    issued: bool,
    reason: str = "",
) -> None:
    """Issued: the reservation becomes use. Cancelled: it is released back to the cap."""
    repo = ledger_repository(store)
    ledger = await repo.get(ledger_id(member_id, year), for_update=True)
    if ledger is None:
        return
    if issued:
        ledger.commit(disbursement_id)
    else:
        ledger.release(disbursement_id, reason)
    await repo.save(ledger)


async def reserve_now(
    ctx: EntitlementsContext, runtime: Runtime, request: DisbursementRequested
) -> Decision:
    """`reserve` in its own unit of work, retried when another writer changed the ledger first."""
    while True:
        try:
            async with UnitOfWork(runtime) as uow:
                return await reserve(ctx, uow.events, request)
        except ConcurrencyConflict:
            continue


def check(
    ctx: EntitlementsContext, ledger: MemberLedger, request: DisbursementRequested
) -> Decision:
    """Would this be allowed now? Decides on the loaded ledger, which is never saved."""
    try:
        policy = ctx.policies.in_force(request.business_date)
    except LookupError as exc:
        raise InvalidInput(str(exc), field="business_date") from None
    return ledger.reserve(
        disbursement_id=f"check-{request.disbursement_id}",
        benefit=request.benefit,
        amount_fen=request.amount_fen,
        rule=policy.member_benefits.get(request.benefit),  # type: ignore[call-overload]
        policy_version=policy.version,
    )
