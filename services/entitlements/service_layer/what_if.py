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
    UnionStandardSet,
)
from services.entitlements.domain.asks import (
    Ask,
    Decision,
    LedgerState,
    TripFacts,
    WithOtherParents,
)
from services.entitlements.domain.decision import decide, ledger_year
from services.entitlements.domain.events import BirthSpacingReviewed
from services.entitlements.domain.ledger import MemberLedger, ledger_id
from services.entitlements.domain.policy import PolicyVersion
from services.entitlements.domain.profile import MemberProfile
from services.entitlements.domain.settlement import Outcome, settle
from services.entitlements.domain.standards import UnionStandards
from services.entitlements.domain.union_ledger import UnionLedger, union_ledger_id
from services.entitlements.service_layer.facts import facts_of, held_by, other_parents
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
    # the unions' standards as they stood at this point of the stream: a correction made after
    # a decision is not read by its replay, as it was not by the decision
    standards: dict[str, UnionStandards] = field(default_factory=dict)

    def chain(self, org: str) -> list[UnionStandards]:
        parts = org.split("/")
        nearest_first = ("/".join(parts[:depth]) for depth in range(len(parts), 0, -1))
        return [self.standards[o] for o in nearest_first if o in self.standards]


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
    event = stored.event
    if isinstance(event, UnionStandardSet):
        standards = replay.standards.setdefault(event.union, UnionStandards(stored.stream_id))
        standards.apply(event)
        return
    if not stored.stream_id.startswith(("ledger-", "unionledger-")):
        return
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
    if isinstance(event, BirthSpacingReviewed):  # a finding stands under any draft
        key = stored.stream_id.removeprefix("ledger-")
        replay.ledgers.setdefault(key, MemberLedger(stored.stream_id)).apply(event)


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
    facts = await facts_of(
        replay.store,
        profile,
        ask,
        draft,
        replay.chain(profile.standing_on(ask.business_date).base_union),
    )
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
    decision = decide(
        draft, facts, await _with_other_parents(replay, ask, year, ledger), union, ask
    )
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


async def _with_other_parents(
    replay: _Replay, ask: Ask, year: int, ledger: MemberLedger
) -> LedgerState:
    """As the live decision reads it: a right of the child's counted with the grants the
    child's other parents hold in the replayed ledgers."""
    rule = replay.draft.rule_for(ask.benefit)
    if not (rule and rule.counted_across_parents and ask.child_id):
        return ledger
    others = await other_parents(replay.store, ask.child_id, ask.member_id)
    found = [replay.ledgers[k] for m in others if (k := ledger_id(m, year)) in replay.ledgers]
    return WithOtherParents(ledger, held_by(found, ask.benefit))


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
    outcome: Outcome = (
        "issued"
        if isinstance(event, ReservationCommitted)
        else "cancelled"
        if isinstance(event, ReservationReleased)
        else "reversed"
    )
    settle(
        replay.ledgers[key],
        replay.unions.get(replay.charged.get(event.disbursement_id, "")),
        event.disbursement_id,
        outcome,
        reason=getattr(event, "reason", ""),
        on=event.business_date,
        rule=replay.draft.rule_for(event.benefit),
    )
