"""What entitlements does with what it hears, and the questions it answers.

Handlers take a `Transaction` (a unit of work, or a consumer's transaction), so the API, the
consumers and the sweeper of waiting requests run the same code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from services.disbursements.domain.events import DisbursementRequested
from services.entitlements.adapters import repository as repo
from services.entitlements.domain.events import (
    EntitlementRejected,
    UnionFinancesRecorded,
    UnionSpendingReserved,
)
from services.entitlements.domain.ledger import Decision, Facts, MemberLedger, ledger_id
from services.entitlements.domain.policy import PolicyVersion
from services.entitlements.domain.profile import MemberProfile
from services.entitlements.domain.union_ledger import TRACKED, UnionLedger, union_ledger_id
from services.entitlements.service_layer.policies import PolicyRegistry, limit_for
from services.members.domain.events import MemberEvent, MemberRegistered
from services.members.domain.model import birthday_in
from shared.aggregate import Repository
from shared.clock import Clock, business_date, end_of_business_day
from shared.errors import ConcurrencyConflict, InvalidInput
from shared.eventstore.store import EventStore, StoredEvent
from shared.runtime import Runtime
from shared.telemetry.metrics import DECISIONS
from shared.uow import Transaction, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EntitlementsContext:
    policies: PolicyRegistry
    clock: Clock
    # How long a request may wait for a fact about its member that has not arrived yet.
    pending_wait: timedelta = timedelta(minutes=2)


# --- member facts ------------------------------------------------------------------------------


async def note_member_event(
    ctx: EntitlementsContext, tx: Transaction, event: MemberEvent, source_event_id: str
) -> None:
    """Record the fact on the member's profile, open the year's ledger for a new member, and
    decide the requests that were waiting for this member."""
    await ctx.policies.refresh(tx.events)
    profiles = repo.profile_repository(tx.events)
    profile = await profiles.get(event.member_id, for_update=True)
    if profile is None:
        if not isinstance(event, MemberRegistered):
            log.warning(
                "member event before the registration; ignored",
                extra={"member_id": event.member_id, "event_type": event.event_type},
            )
            return
        profile = profiles.new(event.member_id)
    profile.note(event, source_event_id)
    await profiles.save(profile)
    if isinstance(event, MemberRegistered):
        today = business_date(ctx.clock)
        await _ledger(ctx, tx.events, profile, today.year, ctx.policies.in_force(today))
    for request in await repo.parked_for(tx.session, event.member_id):
        if await reserve(ctx, tx, request) is not None:
            await repo.unpark(tx.session, request.disbursement_id)


async def note_member_events(
    ctx: EntitlementsContext, tx: Transaction, events: list[tuple[MemberEvent, str]]
) -> None:
    """`note_member_event` for consecutive events (a roster import, a day's birthdays) in a
    handful of statements; one by one when a request waits for one of these members or an
    event comes before its member's registration."""
    members = sorted({e.member_id for e, _ in events})
    profiles_repo = repo.profile_repository(tx.events)
    profiles = await profiles_repo.get_many(members, for_update=True)
    known = set(profiles)
    for event, _ in events:
        if isinstance(event, MemberRegistered):
            known.add(event.member_id)
        elif event.member_id not in known:
            break
    else:
        if not await repo.any_parked(tx.session, members):
            await _note_all(ctx, tx, profiles, events)
            return
    for event, source in events:
        await note_member_event(ctx, tx, event, source)


async def _note_all(
    ctx: EntitlementsContext,
    tx: Transaction,
    profiles: dict[str, MemberProfile],
    events: list[tuple[MemberEvent, str]],
) -> None:
    profiles_repo = repo.profile_repository(tx.events)
    appends, registered = [], []
    for event, source in events:
        profile = profiles.get(event.member_id)
        if profile is None:
            profile = profiles[event.member_id] = profiles_repo.new(event.member_id)
        profile.note(event, source)
        appends.append(profiles_repo.take(profile))
        if isinstance(event, MemberRegistered):
            registered.append((profile, profile.version))
    await profiles_repo.write(appends)
    if not registered:
        return
    await ctx.policies.refresh(tx.events)
    today = business_date(ctx.clock)
    policy = ctx.policies.in_force(today)
    ledgers = repo.ledger_repository(tx.events)
    keys = [ledger_id(p.partition_key(), today.year) for p, _ in registered]
    loaded = await ledgers.get_many(keys, for_update=True)
    opened = []
    for (profile, version), key in zip(registered, keys, strict=True):
        if key in loaded:
            continue
        ledger = loaded[key] = ledgers.new(key)
        ledger.open(
            member_id=profile.partition_key(),
            year=today.year,
            base_union=profile.base_union,
            policy=policy,
            source_event_id=f"profile-{profile.partition_key()}@{version}",
        )
        opened.append(ledgers.take(ledger))
    await ledgers.write(opened)


async def note_hardship(
    tx: Transaction, member_ids: list[str], on_register: bool, source_event_id: str
) -> None:
    """Hardship register changes: summer-camp eligibility follows them."""
    profiles = repo.profile_repository(tx.events)
    for member_id in sorted(set(member_ids)):
        profile = await profiles.get(member_id, for_update=True)
        if profile is None:
            log.warning("hardship event for an unknown member", extra={"member_id": member_id})
            continue
        profile.note_hardship(on_register, source_event_id)
        await profiles.save(profile)


async def _ledger(
    ctx: EntitlementsContext,
    store: EventStore,
    profile: MemberProfile,
    year: int,
    policy: PolicyVersion,
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


async def ledger_entries(
    store: EventStore, member_id: str, year: int, as_of: date | None = None
) -> list[StoredEvent]:
    until = end_of_business_day(as_of) if as_of else None
    return await store.load(f"ledger-{ledger_id(member_id, year)}", up_to=until)


def union_ledgers(store: EventStore) -> Repository[UnionLedger]:
    return Repository(store, UnionLedger, "unionledger")


async def record_union_finances(
    tx: Transaction,
    union: str,
    year: int,
    values: dict[str, int],
    actor: str,
    policy: PolicyVersion | None = None,
) -> UnionLedger:
    unions = union_ledgers(tx.events)
    ledger = await unions.get(union_ledger_id(union, year), for_update=True) or unions.new(
        union_ledger_id(union, year)
    )
    ledger.union, ledger.year = union, year
    topup = policy.union_rules.get("culture_sports_topup") if policy else None
    multiple = topup.max_multiple_of_dues if topup else None
    limit = values["dues_income_fen"] * (1 + multiple) if multiple is not None else None
    ledger.record_finances(
        UnionFinancesRecorded(
            union=union, year=year, recorded_by=actor, culture_sports_limit_fen=limit, **values
        )
    )
    await unions.save(ledger, metadata={"actor": actor})
    return ledger


async def read_union_ledger(
    store: EventStore, union: str, year: int, as_of: date | None = None
) -> UnionLedger | None:
    until = end_of_business_day(as_of) if as_of else None
    return await union_ledgers(store).get(union_ledger_id(union, year), as_of=until)


async def read_ledger(
    store: EventStore, member_id: str, year: int, as_of: datetime | None = None
) -> MemberLedger | None:
    return await repo.ledger_repository(store).get(ledger_id(member_id, year), as_of=as_of)


async def ledger_as_read(
    ctx: EntitlementsContext,
    store: EventStore,
    member_id: str,
    year: int,
    as_of: date | None = None,
) -> tuple[MemberProfile, MemberLedger] | None:
    """The member's profile and ledger for `year`, as they stood at the end of `as_of` (a
    Shanghai date) or now; a year with no entries yet reads as an untouched ledger under the
    policy in force at its start (or on the day read, if later)."""
    until = end_of_business_day(as_of) if as_of else None
    profile = await read_profile(store, member_id, until)
    if profile is None:
        return None
    ledger = await read_ledger(store, member_id, year, until)
    if ledger is None:
        read_on = as_of or business_date(ctx.clock)
        day = max(date(year, 1, 1), min(read_on, date(year, 12, 31)))
        try:
            policy = ctx.policies.in_force(day)
        except LookupError:
            return None
        ledger = repo.ledger_repository(store).new(ledger_id(member_id, year))
        ledger.open(
            member_id=member_id,
            year=year,
            base_union=profile.base_union,
            policy=policy,
            source_event_id="-",
        )
    return profile, ledger


async def read_profile(
    store: EventStore, member_id: str, as_of: datetime | None = None
) -> MemberProfile | None:
    return await repo.profile_repository(store).get(member_id, as_of=as_of)


# --- decisions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Situation:
    """What a request needs from the profile: the facts, the ledger year, and what (if
    anything) it is still waiting for."""

    facts: Facts
    year: int
    waiting_for: str | None = None


async def situation_of(
    store: EventStore,
    profile: MemberProfile,
    request: DisbursementRequested,
    policy: PolicyVersion,
) -> Situation:
    """`situation` with the base union's own standard for the benefit, if it set one."""
    here = situation(profile, request, policy)
    standard = await limit_for(store, profile.base_union, request.benefit, request.business_date)
    if standard is None:
        return here
    limit = standard.amount_fen if standard.amount_fen is not None else standard.standard_fen
    return replace(here, facts=replace(here.facts, union_limit_fen=limit))


def situation(
    profile: MemberProfile, request: DisbursementRequested, policy: PolicyVersion
) -> Situation:
    day = request.business_date
    year = day.year
    rule = policy.member_benefits.get(request.benefit)  # type: ignore[call-overload]
    child = profile.children.get(request.child_id) if request.child_id else None
    waiting_for = None
    if rule is not None and rule.per_child_fen is not None:
        if child is not None:
            year = child.birth_date.year  # a child's gift lives in the ledger of its birth year
        elif request.child_id:
            waiting_for = f"the birth of child {request.child_id}"
    reached = year in profile.birthdays
    if rule is not None and rule.requires == "birthday_reached" and not reached:
        assert profile.birth_date is not None
        if birthday_in(profile.birth_date, year) <= day:
            waiting_for = f"the member's birthday of {year}"
    nef = profile.employment_form != "standard"
    facts = Facts(
        birthday_reached=reached,
        child=child,
        member_active=profile.active_on(day),
        new_employment_form=nef,
        summer_camp_eligible=profile.summer_camp_eligible,
    )
    return Situation(facts, year, waiting_for)


async def reserve(
    ctx: EntitlementsContext,
    tx: Transaction,
    request: DisbursementRequested,
    *,
    final: bool = False,
    source: str | None = None,
) -> Decision | None:
    """Decide one request, or park it (None) while a fact it needs may still be on its way.
    `final` decides with what is known: the sweeper's last word at the deadline."""
    await ctx.policies.refresh(tx.events)
    try:
        policy = ctx.policies.in_force(request.business_date)
    except LookupError:
        return await _reject_alone(
            tx.events, request, f"no policy governs {request.business_date.isoformat()}"
        )
    profile = await read_profile(tx.events, request.member_id)
    if profile is None:
        # The registration may be committing this instant: queue behind its writer, then
        # look again, so that either this sees the profile or the registration sees the
        # parked request (`note_member_event` holds the same lock).
        await tx.events.lock(repo.profile_repository(tx.events).stream_id(request.member_id))
        profile = await read_profile(tx.events, request.member_id)
    if profile is None:
        if final:
            return await _reject_alone(
                tx.events, request, "the member is not registered (no registration was received)"
            )
        return await _park(ctx, tx, request, "the member's registration")
    here = await situation_of(tx.events, profile, request, policy)
    if here.waiting_for and not final:
        return await _park(ctx, tx, request, here.waiting_for)
    union_ledger = None
    union_rule_name = TRACKED.get(request.benefit)
    if union_rule_name and union_rule_name in policy.union_rules:
        union_rule = policy.union_rules[union_rule_name]
        union_ledger = await union_ledgers(tx.events).get(
            union_ledger_id(profile.base_union, here.year), for_update=True
        ) or union_ledgers(tx.events).new(union_ledger_id(profile.base_union, here.year))
        union_ledger.union, union_ledger.year = profile.base_union, here.year
        refusal = union_ledger.refusal(union_rule_name, union_rule, request.amount_fen)
        here = replace(
            here,
            facts=replace(
                here.facts,
                union_charged=profile.base_union,
                union_refusal=(refusal, union_rule.clause) if refusal else None,
            ),
        )
    ledger = await _ledger(ctx, tx.events, profile, here.year, policy)
    decision = ledger.reserve(
        disbursement_id=request.disbursement_id,
        benefit=request.benefit,
        amount_fen=request.amount_fen,
        rule=policy.member_benefits.get(request.benefit),  # type: ignore[call-overload]
        policy_version=policy.version,
        facts=here.facts,
    )
    metadata = {"source_event_id": source or f"request:{request.disbursement_id}"}
    await repo.ledger_repository(tx.events).save(ledger, metadata=metadata)
    if union_ledger is not None and union_rule_name and decision.status == "reserved":
        event = decision.event
        union_ledger.reserve(
            UnionSpendingReserved(
                union=profile.base_union,
                year=here.year,
                rule=union_rule_name,
                clause=policy.union_rules[union_rule_name].clause,
                disbursement_id=event.disbursement_id,
                member_id=event.member_id,
                amount_fen=event.amount_fen,
            )
        )
        await union_ledgers(tx.events).save(union_ledger, metadata=metadata)
    DECISIONS.labels(decision.status, decision.event.clause).inc()
    return decision


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
    maybe = [await _plain_plan(ctx, tx.events, profiles, r) for r, _ in requests]
    plans = [plan for plan in maybe if plan is not None]
    if len(plans) < len(requests):
        for request, source in requests:
            await reserve(ctx, tx, request, source=source)
        return
    ledgers = repo.ledger_repository(tx.events)
    loaded = await ledgers.get_many(
        [ledger_id(r.member_id, plan.year) for (r, _), plan in zip(requests, plans, strict=True)],
        for_update=True,
    )
    appends = []
    for (request, source), plan in zip(requests, plans, strict=True):
        key = ledger_id(request.member_id, plan.year)
        ledger = loaded.get(key)
        if ledger is None:
            ledger = loaded[key] = ledgers.new(key)
            ledger.open(
                member_id=request.member_id,
                year=plan.year,
                base_union=profiles[request.member_id].base_union,
                policy=plan.policy,
                source_event_id=f"profile-{request.member_id}@{profiles[request.member_id].version}",
            )
            appends.append(ledgers.take(ledger))
        decision = ledger.reserve(
            disbursement_id=request.disbursement_id,
            benefit=request.benefit,
            amount_fen=request.amount_fen,
            rule=plan.policy.member_benefits.get(request.benefit),  # type: ignore[call-overload]
            policy_version=plan.policy.version,
            facts=plan.facts,
        )
        appends.append(ledgers.take(ledger, {"source_event_id": source}))
        DECISIONS.labels(decision.status, decision.event.clause).inc()
    await ledgers.write(appends)


@dataclass(frozen=True)
class _Plan:
    policy: PolicyVersion
    facts: Facts
    year: int


async def _plain_plan(
    ctx: EntitlementsContext,
    store: EventStore,
    profiles: dict[str, MemberProfile],
    request: DisbursementRequested,
) -> _Plan | None:
    """What deciding `request` on its member's ledger alone needs, or None if it needs more."""
    profile = profiles.get(request.member_id)
    if profile is None:
        return None
    try:
        policy = ctx.policies.in_force(request.business_date)
    except LookupError:
        return None
    union_rule = TRACKED.get(request.benefit)
    if union_rule and union_rule in policy.union_rules:
        return None
    here = await situation_of(store, profile, request, policy)
    if here.waiting_for:
        return None
    return _Plan(policy, here.facts, here.year)


async def commit_many(store: EventStore, settled: list[tuple[str, int, str, str]]) -> None:
    """`settle` of issued disbursements for consecutive `(member, year, disbursement, source)`s in
    a handful of statements; one by one when any was charged to a union-level rule."""
    ledgers = repo.ledger_repository(store)
    loaded = await ledgers.get_many([ledger_id(m, y) for m, y, _, _ in settled], for_update=True)
    union_charged = any(
        (d := loaded[ledger_id(m, y)].decisions.get(dsb)) is not None and d.event.union_charged
        for m, y, dsb, _ in settled
        if ledger_id(m, y) in loaded
    )
    if union_charged:
        for member_id, year, disbursement_id, source in settled:
            await settle(store, member_id, year, disbursement_id, issued=True, source=source)
        return
    appends = []
    for member_id, year, disbursement_id, source in settled:
        ledger = loaded.get(ledger_id(member_id, year))
        if ledger is None:
            continue
        ledger.commit(disbursement_id)
        appends.append(ledgers.take(ledger, {"source_event_id": source}))
    await ledgers.write(appends)


async def _park(
    ctx: EntitlementsContext, tx: Transaction, request: DisbursementRequested, waiting_for: str
) -> None:
    now = ctx.clock.now()
    await repo.park(tx.session, request, waiting_for, now, now + ctx.pending_wait)


async def _reject_alone(store: EventStore, request: DisbursementRequested, reason: str) -> Decision:
    """A rejection that belongs to no ledger (unknown member, no policy): its own stream."""
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
        child_id=request.child_id,
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
    source: str | None = None,
    reversed_: bool = False,
) -> None:
    """Issued: the reservation becomes use. Cancelled: it is released back to the cap.
    Reversed: a use is given back to the cap."""
    ledgers = repo.ledger_repository(store)
    ledger = await ledgers.get(ledger_id(member_id, year), for_update=True)
    if ledger is None:
        return
    decision = ledger.decisions.get(disbursement_id)
    if reversed_:
        ledger.reverse(disbursement_id, reason)
    elif issued:
        ledger.commit(disbursement_id)
    else:
        ledger.release(disbursement_id, reason)
    await ledgers.save(ledger, metadata={"source_event_id": source or "-"})
    union = decision.event.union_charged if decision else None
    if union:
        unions = union_ledgers(store)
        union_ledger = await unions.get(union_ledger_id(union, year), for_update=True)
        if union_ledger is not None:
            if reversed_:
                union_ledger.reverse(disbursement_id)
            else:
                union_ledger.settle(disbursement_id, issued)
            await unions.save(union_ledger, metadata={"source_event_id": source or "-"})


async def reserve_now(
    ctx: EntitlementsContext, runtime: Runtime, request: DisbursementRequested
) -> Decision | None:
    """`reserve` in its own unit of work, retried when another writer changed the ledger first."""
    while True:
        try:
            async with UnitOfWork(runtime) as uow:
                return await reserve(ctx, uow, request)
        except ConcurrencyConflict:
            continue


async def sweep_expired(ctx: EntitlementsContext, runtime: Runtime, limit: int = 100) -> int:
    """Decide, with what is known, every parked request whose deadline has passed."""
    decided = 0
    while True:
        async with UnitOfWork(runtime) as uow:
            due = await repo.expired(uow.session, ctx.clock.now(), limit)
            for request in due:
                await reserve(ctx, uow, request, final=True)
                await repo.unpark(uow.session, request.disbursement_id)
        decided += len(due)
        if len(due) < limit:
            return decided


def ledger_year(
    ctx: EntitlementsContext, profile: MemberProfile, request: DisbursementRequested
) -> int:
    """Which year's ledger a request is decided in (a child's gift: the birth year)."""
    try:
        policy = ctx.policies.in_force(request.business_date)
    except LookupError as exc:
        raise InvalidInput(str(exc), field="business_date") from None
    return situation(profile, request, policy).year


async def check(
    ctx: EntitlementsContext,
    store: EventStore,
    profile: MemberProfile,
    ledger: MemberLedger,
    request: DisbursementRequested,
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
        facts=(await situation_of(store, profile, request, policy)).facts,
    )
