"""A union's own year without a database: culture and sports against dues and the 4x top-up,
consumption assistance towards its share, each spending settled once."""

from __future__ import annotations

from datetime import date

from services.entitlements.contracts import (
    ConsumptionAssistanceSpent,
    UnionFinancesRecorded,
    UnionSpendingReserved,
)
from services.entitlements.domain.union_ledger import UnionLedger, union_ledger_id
from services.entitlements.service_layer.views import union_ledgers
from shared.clock import FixedClock
from shared.eventstore.memory import InMemoryEventStore
from tests.unit.test_decision import POLICY

UNION, YEAR = "shanxi/taiyuan/xiaodian/bu-0001", 2026
TOPUP = POLICY.union_rules["culture_sports_topup"]


def _ledger(dues_fen: int = 100_000) -> UnionLedger:
    ledger = UnionLedger(f"unionledger-{union_ledger_id(UNION, YEAR)}")
    ledger.record_finances(
        UnionFinancesRecorded(
            union=UNION,
            year=YEAR,
            dues_income_fen=dues_fen,
            budget_fen=1_000_000,
            consumption_share_fen=50_000,
            recorded_by="finance",
        )
    )
    return ledger


def _reserved(disbursement_id: str, amount: int) -> UnionSpendingReserved:
    return UnionSpendingReserved(
        union=UNION,
        year=YEAR,
        rule="culture_sports_topup",
        clause=TOPUP.clause,
        disbursement_id=disbursement_id,
        member_id="m-1",
        amount_fen=amount,
    )


def test_the_culture_and_sports_ceiling_is_dues_plus_four_times_dues() -> None:
    ledger = _ledger(dues_fen=100_000)
    assert ledger.culture_cap_fen(TOPUP) == 500_000
    assert UnionLedger("unionledger-x").culture_cap_fen(TOPUP) is None  # no dues recorded


def test_spending_is_reserved_once_then_committed_released_or_reversed() -> None:
    ledger = _ledger()
    ledger.reserve(_reserved("d-1", 30_000))
    ledger.reserve(_reserved("d-1", 30_000))  # a redelivered decision reserves nothing twice
    ledger.reserve(_reserved("d-2", 20_000))
    assert ledger.spent_fen("culture_sports_topup") == 50_000
    ledger.settle("d-1", issued=True)
    ledger.settle("d-1", issued=True)
    ledger.settle("d-2", issued=False)
    line = ledger.spending["culture_sports_topup"]
    assert (line.used_fen, line.reserved_fen) == (30_000, 0)
    ledger.reverse("d-1")
    ledger.reverse("d-1")
    assert ledger.spent_fen("culture_sports_topup") == 0


async def test_a_purchase_counts_once_and_the_ledger_loads_as_it_was() -> None:
    ledger = _ledger()
    purchase = ConsumptionAssistanceSpent(
        union=UNION,
        year=YEAR,
        purchase_id="p-1",
        amount_fen=8_000,
        business_date=date(YEAR, 11, 15),
        purpose="采购脱贫地区农产品",
        rule="consumption_assistance",
        clause=POLICY.union_rules["consumption_assistance"].clause,
        recorded_by="finance",
    )
    assert ledger.spend_on_assistance(purchase) is purchase
    assert ledger.spend_on_assistance(purchase.model_copy(update={"amount_fen": 1})) == purchase
    assert ledger.spent_fen("consumption_assistance") == 8_000
    ledger.union = UNION
    store = InMemoryEventStore(FixedClock())
    await union_ledgers(store).save(ledger)
    loaded = await union_ledgers(store).get(union_ledger_id(UNION, YEAR))
    assert loaded is not None and loaded.spent_fen("consumption_assistance") == 8_000
    assert loaded.dues_income_fen() == 100_000 and loaded.version == 2
