"""The saga's entitlements side, second half: a reserved disbursement settles when it is
issued, cancelled or reversed, on the member's ledger and, if charged there, the union's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.entitlements.adapters import repository as repo
from services.entitlements.domain import settlement
from services.entitlements.domain.ledger import Outcome, ledger_id
from services.entitlements.domain.policy import BenefitRule
from services.entitlements.domain.union_ledger import union_ledger_id
from services.entitlements.service_layer.context import EntitlementsContext
from services.entitlements.service_layer.views import union_ledgers
from shared.eventstore.store import EventStore


@dataclass(frozen=True)
class Settlement:
    """What happened to a reserved disbursement: issued, cancelled or reversed, on a day."""

    member_id: str
    year: int
    disbursement_id: str
    outcome: settlement.Outcome
    reason: str = ""
    on: date | None = None
    unpaid: bool = False  # reversed because payroll never paid it: the count goes back too


async def settle(
    ctx: EntitlementsContext, store: EventStore, s: Settlement, source: str | None = None
) -> None:
    """The domain's settlement, applied to the stored ledgers that held the reservation."""
    ledgers = repo.ledger_repository(store)
    ledger = await ledgers.get(ledger_id(s.member_id, s.year), for_update=True)
    if ledger is None:
        return
    held = ledger.decisions.get(s.disbursement_id)
    union_ledger = None
    union = held.event.union_charged if held else None
    if union and held is not None:
        unions = union_ledgers(store)
        year = held.event.business_date.year if held.event.business_date else s.year
        union_ledger = await unions.get(union_ledger_id(union, year), for_update=True)
        if union_ledger is None:
            union_ledger = await unions.get(union_ledger_id(union, s.year), for_update=True)
    rule = None if s.unpaid else _rule_decided_under(ctx, held)
    settlement.settle(
        ledger, union_ledger, s.disbursement_id, s.outcome, reason=s.reason, on=s.on, rule=rule
    )
    metadata = {"source_event_id": source or "-"}
    await ledgers.save(ledger, metadata=metadata)
    if union_ledger is not None:
        await union_ledgers(store).save(union_ledger, metadata=metadata)


def _rule_decided_under(ctx: EntitlementsContext, held: Outcome | None) -> BenefitRule | None:
    """The rule of the policy version the grant was decided under."""
    if held is None:
        return None
    for version in ctx.policies.book.versions:
        if version.version == held.event.policy_version:
            return version.rule_for(held.event.benefit)
    return None


async def commit_many(
    ctx: EntitlementsContext, store: EventStore, settled: list[tuple[Settlement, str]]
) -> None:
    """`settle` of issued disbursements in a handful of statements; one by one when any was
    charged to a union-level rule."""
    ledgers = repo.ledger_repository(store)
    keys = [ledger_id(s.member_id, s.year) for s, _ in settled]
    loaded = await ledgers.get_many(keys, for_update=True)
    union_charged = any(
        (d := loaded[k].decisions.get(s.disbursement_id)) is not None and d.event.union_charged
        for (s, _), k in zip(settled, keys, strict=True)
        if k in loaded
    )
    if union_charged:
        for s, source in settled:
            await settle(ctx, store, s, source)
        return
    appends = []
    for (s, source), key in zip(settled, keys, strict=True):
        ledger = loaded.get(key)
        if ledger is None:
            continue
        ledger.commit(s.disbursement_id, s.on)
        appends.append(ledgers.take(ledger, {"source_event_id": source}))
    await ledgers.write(appends)
