"""A union's ledger for one year: stream `unionledger-<org>-<year>`.

Culture and sports (clause 3) are paid from member dues, and union funds may top up a shortfall
by at most 4 × the union's dues income: so the union's culture-and-sports spending in a year
never passes dues × (1 + 4). Consumption assistance (clause 8) is a share of the budget the
union reserves: spending against it is tracked, so the union can see what is still to be spent.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.entitlements.domain.events import (
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

TRACKED = {
    "culture_sports": "culture_sports_topup",
    "consumption_assistance": "consumption_assistance",
}


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
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.union = ""
        self.year = 0
        self.finances: UnionFinancesRecorded | None = None
        self.spending: dict[str, Spending] = {}
        self.open: dict[str, UnionSpendingReserved] = {}
        self.committed: dict[str, UnionSpendingCommitted] = {}

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

    def culture_cap_fen(self, rule: UnionRule) -> int | None:
        if self.finances is None or rule.max_multiple_of_dues is None:
            return None
        return self.finances.dues_income_fen * (1 + rule.max_multiple_of_dues)

    def refusal(self, rule_name: str, rule: UnionRule, amount_fen: int) -> str | None:
        if rule_name != "culture_sports_topup":
            return None
        cap = self.culture_cap_fen(rule)
        if cap is None:
            return f"the union has not recorded its dues income for {self.year}"
        spent = self.spending.get(rule_name, Spending()).total_fen
        if spent + amount_fen > cap:
            return (
                f"the union's culture and sports spending would pass its dues income plus the "
                f"{rule.max_multiple_of_dues}x top-up ({cap - spent} fen remain)"
            )
        return None

    def record_finances(self, event: UnionFinancesRecorded) -> None:
        self._record(event)

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
