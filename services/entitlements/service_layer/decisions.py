"""The saga's entitlements side: decide a request, then settle it when it is issued, cancelled
or reversed. Every "would this be allowed" goes through `domain.decision.decide`; this module
only gathers what it reads (policy, facts as of the business date, ledgers) and saves what it
answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.disbursements.contracts import DisbursementRequested
from services.entitlements.adapters import repository as repo
from services.entitlements.contracts import EntitlementRejected, UnionSpendingReserved
from services.entitlements.domain.asks import (
    Ask,
    Decision,
    LedgerState,
    MemberFacts,
    TripFacts,
    WithOtherParents,
)
from services.entitlements.domain.decision import decide, ledger_year
from services.entitlements.domain.ledger import MemberLedger, Outcome, ledger_id
from services.entitlements.domain.policy import PolicyVersion
from services.entitlements.domain.profile import MemberProfile
from services.entitlements.domain.union_ledger import UnionLedger, union_ledger_id
from services.entitlements.service_layer.context import EntitlementsContext
from services.entitlements.service_layer.facts import facts_of, held_by, other_parents
from services.entitlements.service_layer.views import read_profile, union_ledgers
from shared.clock import business_date
from shared.eventstore.store import EventStore
from shared.runtime import Runtime
from shared.telemetry.background import job
from shared.telemetry.metrics import DECISIONS
from shared.uow import Transaction, UnitOfWork


def ask_of(request: DisbursementRequested) -> Ask:
    trip = request.trip
    return Ask(
        disbursement_id=request.disbursement_id,
        member_id=request.member_id,
        benefit=request.benefit,
        amount_fen=request.amount_fen,
        business_date=request.business_date,
        # A request recorded before requests carried the day they were made: its own date.
        requested_on=request.requested_on or request.business_date,
        child_id=request.child_id,
        granting_level=request.granting_level,
        trip=TripFacts(trip.days, trip.nights, trip.cost_categories) if trip else None,
    )


def waiting_for(profile: MemberProfile, ask: Ask) -> str | None:
    """A fact this request needs that may still be on its way: a child's birth. (A birthday is
    not waited for: it follows from the birth date, by the registry's published rule.)"""
    if ask.child_id and ask.child_id not in profile.children:
        return f"the birth of child {ask.child_id}"
    return None


@dataclass(frozen=True)
class Prepared:
    """Everything a decision reads, gathered; `waiting` if a fact may still arrive."""

    ask: Ask
    policy: PolicyVersion | None
    profile: MemberProfile | None
    facts: MemberFacts | None = None
    year: int = 0
    waiting: str | None = None


async def prepare(
    ctx: EntitlementsContext, store: EventStore, profile: MemberProfile | None, ask: Ask
) -> Prepared:
    try:
        policy = ctx.policies.in_force(ask.business_date)
    except LookupError:
        return Prepared(ask, None, profile)
    if profile is None:
        return Prepared(ask, policy, None, waiting="the member's registration")
    waiting = waiting_for(profile, ask)
    if waiting is not None:
        return Prepared(ask, policy, profile, waiting=waiting)
    facts = await facts_of(store, profile, ask, policy)
    return Prepared(ask, policy, profile, facts, ledger_year(policy, ask, facts))


async def load_union_ledger(
    store: EventStore, p: Prepared, *, for_update: bool
) -> UnionLedger | None:
    assert p.policy is not None and p.facts is not None
    if p.policy.union_rule_of(p.ask.benefit) is None:
        return None
    key = union_ledger_id(p.facts.base_union, p.ask.business_date.year)
    unions = union_ledgers(store)
    return await unions.get(key, for_update=for_update) or unions.new(key)


async def reserve(
    ctx: EntitlementsContext,
    tx: Transaction,
    request: DisbursementRequested,
    *,
    final: bool = False,
    source: str | None = None,
) -> Outcome | None:
    """Decide one request, or park it (None) while a fact it needs may still be on its way.
    `final` decides with what is known: the sweeper's last word at the deadline."""
    await ctx.policies.refresh(tx.events)
    ask = ask_of(request)
    profile = await read_profile(tx.events, ask.member_id)
    if profile is None:
        # The registration may be committing this instant: queue behind its writer, then
        # look again, so that either this sees the profile or the registration sees the
        # parked request (`note_member_event` holds the same lock).
        await tx.events.lock(repo.profile_repository(tx.events).stream_id(ask.member_id))
        profile = await read_profile(tx.events, ask.member_id)
    p = await prepare(ctx, tx.events, profile, ask)
    if p.policy is None:
        return await _reject_alone(
            tx.events,
            request,
            "policy.none",
            "业务日期没有适用的政策版本",
            "no policy version governs the business date",
        )
    if p.waiting and not final:
        await _park(ctx, tx, request, p.waiting)
        return None
    if p.profile is None:
        return await _reject_alone(
            tx.events,
            request,
            "member.unknown",
            "未收到该会员的登记信息，无法核定",
            "the member's registration has not arrived: nothing to decide on",
        )
    if p.facts is None:  # waited long enough for a child or a birthday: decide on what is known
        facts = await facts_of(tx.events, p.profile, ask, p.policy)
        p = Prepared(ask, p.policy, p.profile, facts, ledger_year(p.policy, ask, facts))
    return await _decide_and_save(ctx, tx, p, source or f"request:{ask.disbursement_id}")


async def _decide_and_save(
    ctx: EntitlementsContext, tx: Transaction, p: Prepared, source: str
) -> Outcome:
    assert p.policy is not None and p.facts is not None and p.profile is not None
    if _child_counts(p):
        await tx.events.lock(f"child-{p.ask.child_id}")  # both parents' requests queue here
    union_ledger = await load_union_ledger(tx.events, p, for_update=True)
    ledger = await open_ledger(tx.events, p.profile, p.year, p.policy)
    seen = await with_other_parents(tx.events, p, ledger)
    decision = decide(p.policy, p.facts, seen, union_ledger, p.ask)
    outcome = ledger.record(p.ask, decision, p.ask.child_id)
    metadata = {"source_event_id": source}
    await repo.ledger_repository(tx.events).save(ledger, metadata=metadata)
    if union_ledger is not None and outcome.status == "reserved" and decision.union_rule:
        union_ledger.union, union_ledger.year = p.facts.base_union, p.ask.business_date.year
        union_ledger.reserve(
            UnionSpendingReserved(
                union=p.facts.base_union,
                year=p.ask.business_date.year,
                rule=decision.union_rule,
                clause=p.policy.union_rules[decision.union_rule].clause,
                disbursement_id=p.ask.disbursement_id,
                member_id=p.ask.member_id,
                amount_fen=p.ask.amount_fen,
                business_date=p.ask.business_date,
            )
        )
        await union_ledgers(tx.events).save(union_ledger, metadata=metadata)
    DECISIONS.labels(outcome.status, outcome.event.clause).inc()
    return outcome


async def open_ledger(
    store: EventStore, profile: MemberProfile, year: int, policy: PolicyVersion
) -> MemberLedger:
    """The member's ledger for `year`, opened on first need (a new year needs no migration)."""
    ledgers = repo.ledger_repository(store)
    ledger = await ledgers.get(ledger_id(profile.partition_key(), year), for_update=True)
    if ledger is not None:
        return ledger
    ledger = ledgers.new(ledger_id(profile.partition_key(), year))
    ledger.open(
        member_id=profile.partition_key(),
        year=year,
        base_union=profile.base_union,
        policy=policy,
        source_event_id=f"profile-{profile.partition_key()}@{profile.version}",
    )
    await ledgers.save(ledger)
    return ledger


async def reserve_many(
    ctx: EntitlementsContext, tx: Transaction, requests: list[tuple[DisbursementRequested, str]]
) -> None:
    """`reserve` for consecutive requests (each with its source event id), in order, in a
    handful of statements: what a batch for a whole union sends. When any of them needs more
    than its member's own ledger (a union-level rule, a fact still on its way, an unknown
    member, no policy), they all go through `reserve` one by one."""
    await ctx.policies.refresh(tx.events)
    members = sorted({r.member_id for r, _ in requests})
    profiles = await repo.profile_repository(tx.events).get_many(members)
    plans = [
        await prepare(ctx, tx.events, profiles.get(r.member_id), ask_of(r)) for r, _ in requests
    ]
    if any(not _plain(p) for p in plans):
        for request, source in requests:
            await reserve(ctx, tx, request, source=source)
        return
    ledgers = repo.ledger_repository(tx.events)
    loaded = await ledgers.get_many(
        [ledger_id(p.ask.member_id, p.year) for p in plans], for_update=True
    )
    appends = []
    for (_, source), p in zip(requests, plans, strict=True):
        assert p.policy is not None and p.facts is not None and p.profile is not None
        key = ledger_id(p.ask.member_id, p.year)
        ledger = loaded.get(key)
        if ledger is None:
            ledger = loaded[key] = ledgers.new(key)
            ledger.open(
                member_id=p.ask.member_id,
                year=p.year,
                base_union=p.profile.base_union,
                policy=p.policy,
                source_event_id=f"profile-{p.ask.member_id}@{p.profile.version}",
            )
            appends.append(ledgers.take(ledger))
        outcome = ledger.record(
            p.ask, decide(p.policy, p.facts, ledger, None, p.ask), p.ask.child_id
        )
        appends.append(ledgers.take(ledger, {"source_event_id": source}))
        DECISIONS.labels(outcome.status, outcome.event.clause).inc()
    await ledgers.write(appends)


def _plain(p: Prepared) -> bool:
    """Decidable on the member's own ledger alone."""
    return (
        p.policy is not None
        and p.facts is not None
        and p.waiting is None
        and p.policy.union_rule_of(p.ask.benefit) is None
        and not _child_counts(p)
    )


def _child_counts(p: Prepared) -> bool:
    """The request is for a right of the child's, counted whichever parent asks."""
    rule = p.policy.rule_for(p.ask.benefit) if p.policy is not None else None
    return bool(rule and rule.counted_across_parents and p.ask.child_id)


async def with_other_parents(store: EventStore, p: Prepared, ledger: MemberLedger) -> LedgerState:
    """The ledger the decision reads: the member's own, plus, for a right of the child's, the
    grants of it that the child's other parents (members too) hold this year."""
    if not _child_counts(p):
        return ledger
    assert p.ask.child_id is not None
    others = await other_parents(store, p.ask.child_id, p.ask.member_id)
    found = await repo.ledger_repository(store).get_many([ledger_id(m, p.year) for m in others])
    return WithOtherParents(ledger, held_by(found.values(), p.ask.benefit))


async def check(
    ctx: EntitlementsContext, store: EventStore, profile: MemberProfile, ask: Ask
) -> Decision:
    """Would this be allowed? The same decision as `reserve`, on the ledgers as they stand,
    saving nothing. A fact still on its way is decided as missing."""
    await ctx.policies.refresh(store)
    p = await prepare(ctx, store, profile, ask)
    if p.policy is None:
        return Decision(
            allowed=False,
            benefit=ask.benefit,
            amount_fen=ask.amount_fen,
            policy_version="-",
            clause="-",
            ledger_year=ask.business_date.year,
            rule="policy.none",
            reason="业务日期没有适用的政策版本",
        )
    facts = p.facts or await facts_of(store, profile, ask, p.policy)
    year = ledger_year(p.policy, ask, facts)
    ledgers = repo.ledger_repository(store)
    ledger = await ledgers.get(ledger_id(ask.member_id, year)) or ledgers.new(
        ledger_id(ask.member_id, year)
    )
    prepared = Prepared(ask, p.policy, profile, facts, year)
    union_ledger = await load_union_ledger(store, prepared, for_update=False)
    seen = await with_other_parents(store, prepared, ledger)
    return decide(p.policy, facts, seen, union_ledger, ask)


async def _park(
    ctx: EntitlementsContext, tx: Transaction, request: DisbursementRequested, waiting_for: str
) -> None:
    now = ctx.clock.now()
    await repo.park(tx.session, request, waiting_for, now, now + ctx.pending_wait)


async def _reject_alone(
    store: EventStore, request: DisbursementRequested, rule: str, reason: str, reason_en: str
) -> Outcome:
    """A rejection that belongs to no ledger (unknown member, no policy): its own stream."""
    stream = f"decision-{request.disbursement_id}"
    existing = await store.load(stream)
    if existing:
        event = existing[0].event
        assert isinstance(event, EntitlementRejected)
        return Outcome("rejected", event)
    event = EntitlementRejected(
        disbursement_id=request.disbursement_id,
        member_id=request.member_id,
        year=request.business_date.year,
        benefit=request.benefit,
        amount_fen=request.amount_fen,
        clause="-",
        policy_version="-",
        reason=reason,
        reason_en=reason_en,
        rule=rule,
        remaining_fen=None,
        remaining_count=None,
        child_id=request.child_id,
        business_date=request.business_date,
    )
    await store.append(stream, 0, [event], partition_key=request.member_id)
    DECISIONS.labels("rejected", "-").inc()
    return Outcome("rejected", event)


async def sweep_expired(ctx: EntitlementsContext, runtime: Runtime, limit: int = 100) -> int:
    """Decide, with what is known, every parked request whose deadline has passed."""
    decided = 0
    while True:
        async with UnitOfWork(runtime) as uow:
            due = await repo.expired(uow.session, ctx.clock.now(), limit)
            if due:
                with job("decide parked requests", requests=len(due)):
                    for request in due:
                        await reserve(ctx, uow, request, final=True)
                        await repo.unpark(uow.session, request.disbursement_id)
        decided += len(due)
        if len(due) < limit:
            return decided


def today(ctx: EntitlementsContext) -> date:
    return business_date(ctx.clock)
