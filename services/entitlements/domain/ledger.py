"""A member's ledger for one year: stream `ledger-<member_id>-<year>`.

Nothing here is edited in place: every amount is the fold of the stream's entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.entitlements.domain.events import (
    EntitlementEvent,
    EntitlementRejected,
    EntitlementReserved,
    LedgerLine,
    LedgerOpened,
    ReservationCommitted,
    ReservationReleased,
    ReservationReversed,
)
from services.entitlements.domain.policy import BenefitRule, PolicyVersion
from services.entitlements.domain.profile import ChildFacts
from shared.aggregate import Aggregate
from shared.events import DomainEvent


@dataclass
class BenefitBalance:
    benefit: str
    clause: str
    cap_fen: int | None
    max_count: int | None
    used_fen: int = 0
    reserved_fen: int = 0
    count: int = 0

    @property
    def remaining_fen(self) -> int | None:
        if self.cap_fen is None:
            return None
        return self.cap_fen - self.used_fen - self.reserved_fen


@dataclass(frozen=True)
class Facts:
    """What the member's profile says about one request (see `profile.py`)."""

    birthday_reached: bool = False
    child: ChildFacts | None = None
    member_active: bool = True
    union_limit_fen: int | None = None  # what the member's union set for this benefit
    union_charged: str | None = None  # the union whose ledger this benefit also counts against
    union_refusal: tuple[str, str] | None = None  # (reason, clause) from that union's ledger
    new_employment_form: bool = False
    summer_camp_eligible: bool = False


@dataclass(frozen=True)
class Decision:
    """Where one disbursement stands in this ledger: reserved, rejected, committed or released."""

    status: str
    event: EntitlementEvent


def ledger_id(member_id: str, year: int) -> str:
    return f"{member_id}-{year}"


class MemberLedger(Aggregate):
    member_id: str | None = None
    year: int | None = None
    base_union: str | None = None
    policy_version: str | None = None

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.balances: dict[str, BenefitBalance] = {}
        self.decisions: dict[str, Decision] = {}
        self.child_grants: dict[str, str] = {}  # child id → disbursement holding the grant

    def partition_key(self) -> str:
        assert self.member_id is not None
        return self.member_id

    def apply(self, event: DomainEvent) -> None:
        match event:
            case LedgerOpened():
                self.member_id = event.member_id
                self.year = event.year
                self.base_union = event.base_union
                self.policy_version = event.policy_version
                self.balances = {
                    line.benefit: BenefitBalance(
                        line.benefit, line.clause, line.cap_fen, line.max_count
                    )
                    for line in event.lines
                }
            case EntitlementReserved():
                balance = self.balances[event.benefit]
                balance.reserved_fen += event.amount_fen
                balance.count += 1
                self.decisions[event.disbursement_id] = Decision("reserved", event)
                if event.child_id:
                    self.child_grants[event.child_id] = event.disbursement_id
            case EntitlementRejected():
                self.decisions[event.disbursement_id] = Decision("rejected", event)
            case ReservationCommitted():
                balance = self.balances[event.benefit]
                balance.reserved_fen -= event.amount_fen
                balance.used_fen += event.amount_fen
                self.decisions[event.disbursement_id] = Decision("committed", event)
            case ReservationReleased():
                balance = self.balances[event.benefit]
                balance.reserved_fen -= event.amount_fen
                balance.count -= 1
                self.decisions[event.disbursement_id] = Decision("released", event)
                if event.child_id:
                    self.child_grants.pop(event.child_id, None)
            case ReservationReversed():
                balance = self.balances[event.benefit]
                balance.used_fen -= event.amount_fen
                balance.count -= 1
                self.decisions[event.disbursement_id] = Decision("reversed", event)
                if event.child_id:
                    self.child_grants.pop(event.child_id, None)

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
        lines = [
            LedgerLine(
                benefit=name,
                clause=rule.clause,
                cap_fen=rule.cap_fen if rule.annual else None,
                max_count=rule.max_count if rule.annual else None,
            )
            for name, rule in policy.member_benefits.items()
        ]
        self._record(
            LedgerOpened(
                member_id=member_id,
                year=year,
                base_union=base_union,
                policy_version=policy.version,
                source_event_id=source_event_id,
                lines=lines,
            )
        )

    def reserve(
        self,
        *,
        disbursement_id: str,
        benefit: str,
        amount_fen: int,
        rule: BenefitRule | None,
        policy_version: str,
        facts: Facts | None = None,
    ) -> Decision:
        """Reserve within the caps, or reject saying which clause and what remains. Asked
        again for the same disbursement, it gives the same answer and records nothing."""
        if disbursement_id in self.decisions:
            return self.decisions[disbursement_id]
        assert self.member_id is not None and self.year is not None
        balance = self.balances.get(benefit)
        common = {
            "disbursement_id": disbursement_id,
            "member_id": self.member_id,
            "year": self.year,
            "benefit": benefit,
            "amount_fen": amount_fen,
            "policy_version": policy_version,
            "child_id": facts.child.child_id if facts and facts.child else None,
            "union_charged": facts.union_charged if facts else None,
        }
        if rule is None or balance is None:
            reason = f"{benefit} is not a benefit of policy {policy_version}"
            self._record(
                EntitlementRejected(
                    **common, clause="-", reason=reason, remaining_fen=None, remaining_count=None
                )
            )
            return self.decisions[disbursement_id]
        cap = rule.cap_fen
        remaining = None if cap is None else cap - balance.used_fen - balance.reserved_fen
        remaining_count = None if rule.max_count is None else rule.max_count - balance.count
        facts = facts or Facts()
        reason, clause = (
            self._refusal(rule, amount_fen, remaining, remaining_count, facts),
            rule.clause,
        )
        if reason is None and facts.union_refusal is not None:
            reason, clause = facts.union_refusal
        if reason:
            self._record(
                EntitlementRejected(
                    **common,
                    clause=clause,
                    reason=reason,
                    remaining_fen=remaining,
                    remaining_count=remaining_count,
                )
            )
        else:
            self._record(
                EntitlementReserved(
                    **common,
                    clause=rule.clause,
                    remaining_fen=None if remaining is None else remaining - amount_fen,
                    remaining_count=None if remaining_count is None else remaining_count - 1,
                )
            )
        return self.decisions[disbursement_id]

    def _refusal(
        self,
        rule: BenefitRule,
        amount_fen: int,
        remaining: int | None,
        remaining_count: int | None,
        facts: Facts,
    ) -> str | None:
        if not facts.member_active:
            return "the member's membership is not active on the business date"
        if rule.requires == "birthday_reached" and not facts.birthday_reached:
            return f"the member's birthday in {self.year} has not been reached"
        if rule.requires == "new_employment_form" and not facts.new_employment_form:
            return "only for workers in a new form of employment"
        if rule.requires == "summer_camp_eligible" and not facts.summer_camp_eligible:
            return (
                "only for children of martyrs, workers in hardship, new-employment-form, "
                "migrant and ethnic-minority workers"
            )
        if rule.per_child_fen is not None:
            return self._childbirth_refusal(rule, amount_fen, facts.child)
        if rule.requires_union_standard and facts.union_limit_fen is None:
            return "the base union has not set its standard for this benefit"
        if facts.union_limit_fen is not None and amount_fen > facts.union_limit_fen:
            return f"{amount_fen} fen exceeds the {facts.union_limit_fen} fen the union set"
        if remaining_count is not None and remaining_count < 1:
            return f"at most {rule.max_count} per member per year; none remain"
        if remaining is not None and amount_fen > remaining:
            return f"{amount_fen} fen exceeds the {remaining} fen that remain of the yearly cap"
        return None

    def _childbirth_refusal(
        self, rule: BenefitRule, amount_fen: int, child: ChildFacts | None
    ) -> str | None:
        assert rule.per_child_fen is not None
        if child is None:
            return "a childbirth gift names a child registered for this member (child_id)"
        if rule.within_policy_only and not child.within_policy:
            return "the child was not born within the family-planning policy"
        if child.child_id in self.child_grants:
            return "this member has already received the childbirth gift for this child"
        order = min(child.birth_order, max(rule.per_child_fen))
        limit = rule.per_child_fen[order]
        if amount_fen > limit:
            return f"{amount_fen} fen exceeds the {limit} fen for a child of birth order {order}"
        return None

    def commit(self, disbursement_id: str) -> None:
        decision = self.decisions.get(disbursement_id)
        if decision is None or decision.status != "reserved":
            return
        self._record(ReservationCommitted(**_carry(decision.event)))

    def reverse(self, disbursement_id: str, reason: str) -> None:
        decision = self.decisions.get(disbursement_id)
        if decision is None or decision.status != "committed":
            return
        self._record(ReservationReversed(**_carry(decision.event), reason=reason))

    def release(self, disbursement_id: str, reason: str) -> None:
        decision = self.decisions.get(disbursement_id)
        if decision is None or decision.status != "reserved":
            return
        self._record(ReservationReleased(**_carry(decision.event), reason=reason))


def _carry(event: EntitlementEvent) -> dict[str, object]:
    return {name: getattr(event, name) for name in EntitlementEvent.model_fields}
