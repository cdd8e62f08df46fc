"""A union's ledger for one year: stream `unionledger-<org>-<year>`.

Culture and sports (clause 3) are paid from member dues, and union funds may top up a shortfall
by at most 4 × the union's dues income: so the union's culture-and-sports spending in a year
never passes dues × (1 + 4). Consumption assistance (clause 8) is a share of the budget the
union reserves: a floor to reach, not a cap. Its purchases (farm products from areas lifted out
of poverty, for gifts or the canteen) are union spending that no member receives, so the union
sees what it reserved, what it spent and what is still to spend.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.entitlements.contracts import (
    ConsumptionAssistanceSpent,
    UnionFinancesRecorded,
    UnionSpendingCommitted,
    UnionSpendingEvent,
    UnionSpendingReleased,
    UnionSpendingReserved,
    UnionSpendingReversed,
)
from services.entitlements.domain.policy import UnionRule
from shared.aggregate import Aggregate
from shared.events import DomainEvent


@dataclass
class Spending:
    used_fen: int = 0
    reserved_fen: int = 0

    @property
    def total_fen(self) -> int:
        return self.used_fen + self.reserved_fen


def union_ledger_id(union: str, year: int) -> str:
    return f"{union}-{year}"


class UnionLedger(Aggregate):
    """Implements `decision.UnionState`."""

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.union = ""
        self.year = 0
        self.finances: UnionFinancesRecorded | None = None
        self.spending: dict[str, Spending] = {}
        self.open: dict[str, UnionSpendingReserved] = {}
        self.committed: dict[str, UnionSpendingCommitted] = {}
        self.purchases: dict[str, ConsumptionAssistanceSpent] = {}

    def partition_key(self) -> str:
        return f"union:{self.union}"

    def apply(self, event: DomainEvent) -> None:
        match event:
            case UnionFinancesRecorded():
                self.union, self.year, self.finances = event.union, event.year, event
            case UnionSpendingReserved():
                self.union, self.year = event.union, event.year
                self.spending.setdefault(event.rule, Spending()).reserved_fen += event.amount_fen
                self.open[event.disbursement_id] = event
            case UnionSpendingCommitted():
                line = self.spending[event.rule]
                line.reserved_fen -= event.amount_fen
                line.used_fen += event.amount_fen
                self.open.pop(event.disbursement_id, None)
                self.committed[event.disbursement_id] = event
            case UnionSpendingReleased():
                self.spending[event.rule].reserved_fen -= event.amount_fen
                self.open.pop(event.disbursement_id, None)
            case UnionSpendingReversed():
                self.spending[event.rule].used_fen -= event.amount_fen
                self.committed.pop(event.disbursement_id, None)
            case ConsumptionAssistanceSpent():
                self.union, self.year = event.union, event.year
                self.purchases[event.purchase_id] = event
                self.spending.setdefault(event.rule, Spending()).used_fen += event.amount_fen

    def dues_income_fen(self) -> int | None:
        return None if self.finances is None else self.finances.dues_income_fen

    def spent_fen(self, rule: str) -> int:
        return self.spending.get(rule, Spending()).total_fen

    def culture_cap_fen(self, rule: UnionRule) -> int | None:
        if self.finances is None or rule.max_multiple_of_dues is None:
            return None
        return self.finances.dues_income_fen * (1 + rule.max_multiple_of_dues)

    def record_finances(self, event: UnionFinancesRecorded) -> None:
        self._record(event)

    def spend_on_assistance(self, event: ConsumptionAssistanceSpent) -> ConsumptionAssistanceSpent:
        """Recorded once per purchase id: a retried call records nothing twice."""
        if event.purchase_id in self.purchases:
            return self.purchases[event.purchase_id]
        self._record(event)
        return event

    def reserve(self, event: UnionSpendingReserved) -> None:
        if event.disbursement_id not in self.open:
            self._record(event)

    def reverse(self, disbursement_id: str) -> None:
        held = self.committed.get(disbursement_id)
        if held is not None:
            data = {k: getattr(held, k) for k in UnionSpendingEvent.model_fields}
            self._record(UnionSpendingReversed(**data))

    def settle(self, disbursement_id: str, issued: bool) -> None:
        held = self.open.get(disbursement_id)
        if held is None:
            return
        data = {k: getattr(held, k) for k in UnionSpendingEvent.model_fields}
        self._record(UnionSpendingCommitted(**data) if issued else UnionSpendingReleased(**data))
