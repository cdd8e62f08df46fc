"""A member's ledger for one year: stream `ledger-<member_id>-<year>`.

Nothing here is edited in place: every amount is the fold of the stream's entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.entitlements.contracts import (
    AskedFor,
    Benefit,
    EntitlementEvent,
    EntitlementRejected,
    EntitlementReserved,
    ReservationCommitted,
    ReservationReleased,
    ReservationReversed,
)
from services.entitlements.domain.asks import Ask, Decision
from services.entitlements.domain.events import BirthSpacingReviewed, LedgerLine, LedgerOpened
from services.entitlements.domain.policy import PolicyVersion
from shared.aggregate import Aggregate
from shared.errors import Conflict
from shared.events import DomainEvent

_LINES: dict[int, tuple[PolicyVersion, list[LedgerLine]]] = {}


def lines_of(policy: PolicyVersion) -> list[LedgerLine]:
    """A ledger's lines under a policy version, built once per version: they are the same for
    every ledger opened under it, and a roster of a hundred thousand opens as many ledgers."""
    cached = _LINES.get(id(policy))
    if cached is None or cached[0] is not policy:
        if len(_LINES) >= 64:  # versions replaced by a refresh are let go
            _LINES.clear()
        lines = [
            LedgerLine(
                benefit=name,
                clause=rule.clause,
                cap_fen=rule.cap_fen if rule.yearly_cap else None,
                max_count=rule.max_count if rule.yearly_cap else None,
            )
            for name, rule in policy.member_benefits.items()
        ]
        cached = _LINES[id(policy)] = (policy, lines)
    return cached[1]


@dataclass(frozen=True)
class BalanceChange:
    """What one entry moves on its benefit's line: money used, money reserved, grants counted."""

    used_fen: int = 0
    reserved_fen: int = 0
    count: int = 0


def balance_change(event: DomainEvent) -> BalanceChange | None:
    """The one fold of a ledger line: the decision (`MemberLedger.apply`) and the read tables
    (`adapters/projections.py`) both add exactly this, so a view can never count otherwise
    than the decision does. A reversal that keeps its count (an expired voucher) gives back
    the money only."""
    match event:
        case EntitlementReserved():
            return BalanceChange(reserved_fen=event.amount_fen, count=1)
        case ReservationCommitted():
            return BalanceChange(reserved_fen=-event.amount_fen, used_fen=event.amount_fen)
        case ReservationReleased():
            return BalanceChange(reserved_fen=-event.amount_fen, count=-1)
        case ReservationReversed():
            return BalanceChange(used_fen=-event.amount_fen, count=0 if event.keeps_count else -1)
    return None


@dataclass
class BenefitBalance:
    benefit: str
    used_fen: int = 0
    reserved_fen: int = 0
    count: int = 0


@dataclass(frozen=True)
class Outcome:
    """Where one disbursement stands in this ledger: reserved, rejected, committed, released or
    reversed, with the entry that says so."""

    status: str
    event: EntitlementEvent


def ledger_id(member_id: str, year: int) -> str:
    return f"{member_id}-{year}"


class MemberLedger(Aggregate):
    """Implements `decision.LedgerState`: what a decision reads of a member's year."""

    member_id: str | None = None
    year: int | None = None
    base_union: str | None = None
    policy_version: str | None = None

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.balances: dict[str, BenefitBalance] = {}
        self.scoped: dict[tuple[str, str], int] = {}  # (benefit, child or cycle) → grants held
        self.decisions: dict[str, Outcome] = {}
        self.child_grants: dict[str, str] = {}  # child id → disbursement holding the gift
        self.spacing_reviews: dict[str, BirthSpacingReviewed] = {}  # child id → finding

    def partition_key(self) -> str:
        assert self.member_id is not None
        return self.member_id

    # --- what a decision reads -----------------------------------------------------------------

    def line(self, benefit: str) -> tuple[int, int, int]:
        b = self.balances.get(benefit)
        return (0, 0, 0) if b is None else (b.used_fen, b.reserved_fen, b.count)

    def scoped_count(self, benefit: str, key: str) -> int:
        return self.scoped.get((benefit, key), 0)

    def spacing_approved(self, child_id: str) -> bool:
        review = self.spacing_reviews.get(child_id)
        return review is not None and review.approved

    def _balance(self, benefit: str) -> BenefitBalance:
        return self.balances.setdefault(benefit, BenefitBalance(benefit))

    def _move(self, event: EntitlementEvent) -> None:
        change = balance_change(event)
        if change is None:
            return
        balance = self._balance(event.benefit)
        balance.used_fen += change.used_fen
        balance.reserved_fen += change.reserved_fen
        if change.count:
            self._count(event, change.count)

    def _count(self, event: EntitlementEvent, delta: int) -> None:
        self._balance(event.benefit).count += delta
        key = _key_of(event)
        if key is not None:
            self.scoped[(event.benefit, key)] = self.scoped_count(event.benefit, key) + delta
        if event.child_id and event.benefit == Benefit.CHILDBIRTH_GIFT:
            if delta > 0:
                self.child_grants[event.child_id] = event.disbursement_id
            else:
                self.child_grants.pop(event.child_id, None)

    def apply(self, event: DomainEvent) -> None:
        match event:
            case LedgerOpened():
                self.member_id = event.member_id
                self.year = event.year
                self.base_union = event.base_union
                self.policy_version = event.policy_version
                for line in event.lines:
                    self._balance(line.benefit)
            case EntitlementReserved():
                self._move(event)
                self.decisions[event.disbursement_id] = Outcome("reserved", event)
            case EntitlementRejected():
                self.decisions[event.disbursement_id] = Outcome("rejected", event)
            case ReservationCommitted():
                self._move(event)
                self.decisions[event.disbursement_id] = Outcome("committed", event)
            case ReservationReleased():
                self._move(event)
                self.decisions[event.disbursement_id] = Outcome("released", event)
            case ReservationReversed():
                self._move(event)
                self.decisions[event.disbursement_id] = Outcome("reversed", event)
            case BirthSpacingReviewed():
                self.spacing_reviews[event.child_id] = event

    @property
    def opened(self) -> bool:
        return self.member_id is not None

    def open(
        self,
        *,
        member_id: str,
        year: int,
        base_union: str,
        policy: PolicyVersion,
        source_event_id: str,
    ) -> None:
        if self.opened:
            return
        self._record(
            LedgerOpened(
                member_id=member_id,
                year=year,
                base_union=base_union,
                policy_version=policy.version,
                source_event_id=source_event_id,
                lines=lines_of(policy),
            )
        )

    # --- what it records -----------------------------------------------------------------------

    def record(self, ask: Ask, decision: Decision, child_id: str | None = None) -> Outcome:
        """The decision as this ledger's entry. Asked again for the same disbursement, it gives
        the first answer and records nothing."""
        if ask.disbursement_id in self.decisions:
            return self.decisions[ask.disbursement_id]
        assert self.member_id is not None and self.year is not None
        common: dict[str, Any] = {
            "disbursement_id": ask.disbursement_id,
            "member_id": self.member_id,
            "year": self.year,
            "benefit": ask.benefit,
            "amount_fen": ask.amount_fen,
            "clause": decision.clause,
            "policy_version": decision.policy_version,
            "child_id": child_id,
            "union_charged": decision.union,
            "business_date": ask.business_date,
            "count_key": decision.count_key,
            "remaining_fen": decision.remaining_fen,
            "remaining_count": decision.remaining_count,
            "union_remaining_fen": decision.union_remaining_fen,
            "asked": asked_for(ask),
        }
        if decision.allowed:
            self._record(EntitlementReserved(**common))
        else:
            assert decision.reason is not None
            self._record(
                EntitlementRejected(
                    **common,
                    reason=decision.reason,
                    reason_en=decision.reason_en,
                    rule=decision.rule,
                )
            )
        return self.decisions[ask.disbursement_id]

    def review_spacing(self, review: BirthSpacingReviewed) -> BirthSpacingReviewed:
        """A child's spacing is reviewed once: a second finding would rewrite the first."""
        found = self.spacing_reviews.get(review.child_id)
        if found is not None:
            raise Conflict(
                f"该子女的出生间隔已于 {found.reviewed_on} 复核"
                f"（{'批准' if found.approved else '不批准'}）"
                f"（the child's birth spacing was reviewed on {found.reviewed_on}）",
                rule="spacing.reviewed",
            )
        self._record(review)
        return review

    def commit(self, disbursement_id: str, on: date | None = None) -> None:
        decision = self.decisions.get(disbursement_id)
        if decision is None or decision.status != "reserved":
            return
        self._record(ReservationCommitted(**_carry(decision.event, on)))

    def reverse(
        self, disbursement_id: str, reason: str, on: date | None = None, keeps_count: bool = False
    ) -> None:
        decision = self.decisions.get(disbursement_id)
        if decision is None or decision.status != "committed":
            return
        self._record(
            ReservationReversed(
                **_carry(decision.event, on), reason=reason, keeps_count=keeps_count
            )
        )

    def release(self, disbursement_id: str, reason: str, on: date | None = None) -> None:
        decision = self.decisions.get(disbursement_id)
        if decision is None or decision.status != "reserved":
            return
        self._record(ReservationReleased(**_carry(decision.event, on), reason=reason))


def _key_of(event: EntitlementEvent) -> str | None:
    if event.count_key is not None:
        return event.count_key
    return f"child:{event.child_id}" if event.child_id else None


def _carry(event: EntitlementEvent, on: date | None) -> dict[str, Any]:
    """The entry's identity, dated by the day of the later step (or the request's)."""
    carried = {name: getattr(event, name) for name in EntitlementEvent.model_fields}
    if on is not None:
        carried["business_date"] = on
    return carried


def asked_for(ask: Ask) -> AskedFor:
    trip = ask.trip
    return AskedFor(
        requested_on=ask.requested_on,
        granting_level=ask.granting_level.value if ask.granting_level else None,
        trip_days=trip.days if trip else None,
        trip_nights=trip.nights if trip else None,
        trip_cost_categories=trip.cost_categories if trip else (),
    )
