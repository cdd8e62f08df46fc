"""What a decision is asked and what it answers: plain values, so the decision stays pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from services.entitlements.contracts import GrantingLevel
from services.entitlements.domain.profile import ChildFacts


@dataclass(frozen=True)
class TripFacts:
    """An outing's shape, as the request describes it (clause 4)."""

    days: int
    nights: int
    cost_categories: tuple[str, ...]


@dataclass(frozen=True)
class Ask:
    """What is asked. `requested_on` is the business date on which the request was accepted:
    it, not the moment a consumer happens to read the request, decides whether the books of
    the business date's year were still open."""

    disbursement_id: str
    member_id: str
    benefit: str
    amount_fen: int
    business_date: date
    requested_on: date
    child_id: str | None = None
    granting_level: GrantingLevel | None = None
    trip: TripFacts | None = None


@dataclass(frozen=True)
class UnionStandard:
    """What the member's base union set for this benefit, in force on the business date."""

    union: str
    amount_fen: int | None = None
    standard_fen: int | None = None
    yearly_total_fen: int | None = None

    @property
    def limit_fen(self) -> int | None:
        return self.amount_fen if self.amount_fen is not None else self.standard_fen


@dataclass(frozen=True)
class MemberFacts:
    """The member as of the business date."""

    base_union: str
    join_date: date
    active: bool
    birthday: date  # the member's birthday in the business date's year
    employment_form: str
    groups: frozenset[str]
    children: tuple[ChildFacts, ...] = ()
    standard: UnionStandard | None = None

    def child(self, child_id: str | None) -> ChildFacts | None:
        return next((c for c in self.children if c.child_id == child_id), None)


class LedgerState(Protocol):
    """What a decision reads from a member's ledger."""

    def line(self, benefit: str) -> tuple[int, int, int]:
        """Used fen, reserved fen and count of a yearly line."""
        ...

    def scoped_count(self, benefit: str, key: str) -> int:
        """How many grants of `benefit` hold for `key` (a child, a cycle)."""
        ...

    def spacing_approved(self, child_id: str) -> bool:
        """Whether a reviewer approved a birth refused as too close to a sibling's."""
        ...


@dataclass(frozen=True)
class WithOtherParents:
    """A member's ledger as a decision reads it, with the grants the child's other parents
    hold counted in: a right of the child's is the child's, whichever parent asks."""

    ledger: LedgerState
    others: Mapping[tuple[str, str], int]

    def line(self, benefit: str) -> tuple[int, int, int]:
        return self.ledger.line(benefit)

    def scoped_count(self, benefit: str, key: str) -> int:
        return self.ledger.scoped_count(benefit, key) + self.others.get((benefit, key), 0)

    def spacing_approved(self, child_id: str) -> bool:
        return self.ledger.spacing_approved(child_id)


class UnionState(Protocol):
    """What a decision reads from a union's ledger."""

    def dues_income_fen(self) -> int | None: ...

    def spent_fen(self, rule: str) -> int:
        """Used plus reserved under a union-level rule."""
        ...


@dataclass(frozen=True)
class Decision:
    """The answer, with everything a finance officer needs to see why."""

    allowed: bool
    benefit: str
    amount_fen: int
    policy_version: str
    clause: str
    ledger_year: int
    rule: str = "allowed"
    reason: str | None = None  # in Chinese, amounts in yuan
    reason_en: str | None = None  # the same in English
    remaining_fen: int | None = None  # under the cited clause: after, if allowed; else before
    remaining_count: int | None = None
    count_key: str | None = None
    union: str | None = None  # the union whose ledger this also counts against
    union_rule: str | None = None
    union_remaining_fen: int | None = None


class Refusal(Exception):
    """Raised inside `decide` to stop at the first rule that says no."""

    def __init__(self, rule: str, reason: str, en: str, clause: str | None = None) -> None:
        super().__init__(rule)
        self.rule, self.reason, self.en, self.clause = rule, reason, en, clause
