"""What entitlements does with what it hears, and the questions it answers."""

from __future__ import annotations

from dataclasses import dataclass

from services.entitlements.adapters.repository import ledger_repository
from services.entitlements.domain.ledger import MemberLedger, ledger_id
from services.entitlements.domain.policy import PolicyBook
from services.members.domain.events import MemberRegistered
from shared.clock import Clock, business_date
from shared.eventstore.store import EventStore


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
