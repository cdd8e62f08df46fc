"""What a draft policy would have done to a year that happened.

Every request of the year, in the order it was decided, is decided again under the draft by the
same `decide`, on ledgers rebuilt in memory from nothing; each issue, cancellation and reversal
that followed is applied to the replayed ledgers as it was to the live ones. Nothing is written.
Run with the policy in force, it reproduces the live decisions exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from services.entitlements.adapters import repository as repo
from services.entitlements.contracts import (
    Decided,
    EntitlementReserved,
    GrantingLevel,
    ReservationCommitted,
    ReservationReleased,
    ReservationReversed,
    UnionFinancesRecorded,
    UnionSpendingReserved,
)
from services.entitlements.domain.asks import Ask, Decision, TripFacts
from services.entitlements.domain.decision import decide, ledger_year
from services.entitlements.domain.ledger import MemberLedger, ledger_id
from services.entitlements.domain.policy import PolicyVersion
from services.entitlements.domain.profile import MemberProfile
from services.entitlements.domain.union_ledger import UnionLedger, union_ledger_id
from services.entitlements.service_layer.decisions import facts_of
from shared.auth import org_contains
from shared.eventstore.store import EventStore, StoredEvent

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Difference:
    member_id: str
    union: str
    benefit: str
    disbursement_id: str
    business_date: date
    amount_fen: int
    allowed_before: bool
    clause_before: str
    allowed_after: bool
    clause_after: str
    rule_after: str
    reason_after: str | None


@dataclass
class Totals:
    requests: int = 0
    allowed_before: int = 0
    allowed_after: int = 0
    fen_before: int = 0
    fen_after: int = 0


@dataclass
class WhatIf:
    draft: str
    year: int
    requests: int = 0
    differences: list[Difference] = field(default_factory=list)
    totals: dict[tuple[str, str], Totals] = field(default_factory=dict)  # (union, benefit)


@dataclass
class _Replay:
    """The ledgers as the draft would have kept them, in memory."""

    store: EventStore
    draft: PolicyVersion
    ledgers: dict[str, MemberLedger] = field(default_factory=dict)
    unions: dict[str, UnionLedger] = field(default_factory=dict)
    profiles: dict[str, MemberProfile] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # disbursement → replayed ledger key
    charged: dict[str, str] = field(default_factory=dict)  # disbursement → union ledger key


async def what_if(
    store: EventStore,
    draft: PolicyVersion,
    year: int,
    *,
    union: str | None = None,
    progress: Progress | None = None,
    page: int = 5_000,
) -> WhatIf:
    replay = _Replay(store, draft)
    answer = WhatIf(draft=draft.version, year=year)
    position = 0
    while True:
        batch = await store.read_all(after_position=position, limit=page)
        if not batch:
            return answer
        position = batch[-1].position
        await _load_profiles(replay, batch)
        for stored in batch:
            await _one(replay, answer, stored, year, union)
        if progress:
            progress(answer.requests)


async def _load_profiles(replay: _Replay, batch: list[StoredEvent]) -> None:
    wanted = sorted(
        {
            s.event.member_id
            for s in batch
            if isinstance(s.event, Decided) and s.event.member_id not in replay.profiles
        }
    )
    if wanted:
        found = await repo.profile_repository(replay.store).get_many(wanted)
        replay.profiles.update(found)


async def _one(
    replay: _Replay, answer: WhatIf, stored: StoredEvent, year: int, union: str | None
) -> None:
    if not stored.stream_id.startswith(("ledger-", "unionledger-")):
        return
    event = stored.event
    if isinstance(event, UnionFinancesRecorded):
        _union(replay, event.union, event.year).record_finances(event)
        return
    if isinstance(event, Decided):
        if event.business_date is None or event.business_date.year != year:
            return
        profile = replay.profiles.get(event.member_id)
        if profile is None or (union and not _within(profile.base_union, union)):
            return
        await _decide_again(replay, answer, event, profile)
        return
    if isinstance(event, ReservationCommitted | ReservationReleased | ReservationReversed):
        _settle(replay, event)


def _within(org: str, root: str) -> bool:
    return org_contains(root, org)


def _union(replay: _Replay, org: str, year: int) -> UnionLedger:
    key = union_ledger_id(org, year)
    if key not in replay.unions:
        ledger = UnionLedger(f"unionledger-{key}")
        ledger.union, ledger.year = org, year
        replay.unions[key] = ledger
    return replay.unions[key]


def ask_from(event: Decided) -> Ask:
    """The request as it was made, from its decision's record."""
    asked = event.asked
    assert event.business_date is not None
    trip = None
    if asked is not None and asked.trip_days is not None:
        trip = TripFacts(asked.trip_days, asked.trip_nights or 0, asked.trip_cost_categories)
    return Ask(
        disbursement_id=event.disbursement_id,
        member_id=event.member_id,
        benefit=event.benefit,
        amount_fen=event.amount_fen,
        business_date=event.business_date,
        requested_on=asked.requested_on if asked else event.business_date,
        child_id=event.child_id,
        granting_level=GrantingLevel(asked.granting_level)
        if asked and asked.granting_level
        else None,
        trip=trip,
    )


async def _decide_again(
    replay: _Replay, answer: WhatIf, event: Decided, profile: MemberProfile
) -> None:
    draft = replay.draft
    ask = ask_from(event)
    facts = await facts_of(replay.store, profile, ask, draft)
    year = ledger_year(draft, ask, facts)
    key = ledger_id(ask.member_id, year)
    ledger = replay.ledgers.get(key)
    if ledger is None:
        ledger = replay.ledgers[key] = MemberLedger(f"ledger-{key}")
        ledger.open(
            member_id=ask.member_id,
            year=year,
            base_union=facts.base_union,
            policy=draft,
            source_event_id="what-if",
        )
    rule = draft.union_rule_of(ask.benefit)
    union = _union(replay, facts.base_union, ask.business_date.year) if rule else None
    decision = decide(draft, facts, ledger, union, ask)
    ledger.record(ask, decision, ask.child_id)
    replay.where[ask.disbursement_id] = key
    if decision.allowed and union is not None and rule is not None:
        union.reserve(
            UnionSpendingReserved(
                union=union.union,
                year=union.year,
                rule=rule[0],
                clause=rule[1].clause,
                disbursement_id=ask.disbursement_id,
                member_id=ask.member_id,
                amount_fen=ask.amount_fen,
                business_date=ask.business_date,
            )
        )
        replay.charged[ask.disbursement_id] = union_ledger_id(union.union, union.year)
    _count(answer, event, facts.base_union, decision)


def _count(answer: WhatIf, event: Decided, union: str, decision: Decision) -> None:
    before = isinstance(event, EntitlementReserved)
    answer.requests += 1
    totals = answer.totals.setdefault((union, event.benefit), Totals())
    totals.requests += 1
    totals.allowed_before += before
    totals.allowed_after += decision.allowed
    totals.fen_before += event.amount_fen if before else 0
    totals.fen_after += event.amount_fen if decision.allowed else 0
    if before != decision.allowed or (not before and event.clause != decision.clause):
        assert event.business_date is not None
        answer.differences.append(
            Difference(
                member_id=event.member_id,
                union=union,
                benefit=event.benefit,
                disbursement_id=event.disbursement_id,
                business_date=event.business_date,
                amount_fen=event.amount_fen,
                allowed_before=before,
                clause_before=event.clause,
                allowed_after=decision.allowed,
                clause_after=decision.clause,
                rule_after=decision.rule,
                reason_after=decision.reason,
            )
        )


def _settle(
    replay: _Replay, event: ReservationCommitted | ReservationReleased | ReservationReversed
) -> None:
    key = replay.where.get(event.disbursement_id)
    if key is None:
        return
    ledger = replay.ledgers[key]
    union = replay.unions.get(replay.charged.get(event.disbursement_id, ""))
    if isinstance(event, ReservationCommitted):
        ledger.commit(event.disbursement_id, event.business_date)
        if union:
            union.settle(event.disbursement_id, issued=True)
    elif isinstance(event, ReservationReleased):
        ledger.release(event.disbursement_id, event.reason, event.business_date)
        if union:
            union.settle(event.disbursement_id, issued=False)
    else:
        rule = replay.draft.rule_for(event.benefit)
        keeps = bool(rule and rule.count_kept_once_issued)
        ledger.reverse(event.disbursement_id, event.reason, event.business_date, keeps_count=keeps)
        if union:
            union.reverse(event.disbursement_id)
