"""A member's year and a union's year as event-sourced ledgers, without a database: every step
of a benefit's life (reserved, committed, released, reversed) and what the ledger holds after
it, saved and loaded again through a repository on the store in memory."""

from __future__ import annotations

import pytest

from services.entitlements.adapters.repository import ledger_repository
from services.entitlements.domain.decision import decide
from services.entitlements.domain.events import LedgerOpened
from services.entitlements.domain.ledger import MemberLedger
from shared.clock import FixedClock
from shared.errors import ConcurrencyConflict
from shared.eventstore.memory import InMemoryEventStore
from tests.unit.test_decision import FACTS, POLICY, ask

HOLIDAY_CAP = POLICY.member_benefits["holiday_gift"].cap_fen


def _opened() -> MemberLedger:
    ledger = MemberLedger("ledger-m-1-2026")
    ledger.open(member_id="m-1", year=2026, base_union="u", policy=POLICY, source_event_id="p@1")
    return ledger


def _reserve(ledger: MemberLedger, amount: int, disbursement_id: str) -> str:
    a = ask("holiday_gift", amount, disbursement_id=disbursement_id)
    return ledger.record(a, decide(POLICY, FACTS, ledger, None, a)).status


def test_a_benefit_moves_from_reserved_to_used_and_back() -> None:
    ledger = _opened()
    assert _reserve(ledger, 30000, "d-1") == "reserved"
    assert ledger.line("holiday_gift") == (0, 30000, 1)
    ledger.commit("d-1")
    assert ledger.line("holiday_gift") == (30000, 0, 1)
    ledger.commit("d-1")  # a redelivered issue changes nothing
    assert ledger.line("holiday_gift") == (30000, 0, 1)
    ledger.reverse("d-1", "发错了")
    assert ledger.line("holiday_gift") == (0, 0, 0)
    assert ledger.decisions["d-1"].status == "reversed"


def test_a_cancelled_reservation_is_released_and_only_once() -> None:
    ledger = _opened()
    _reserve(ledger, 20000, "d-1")
    ledger.release("d-1", "取消")
    ledger.release("d-1", "取消")
    ledger.reverse("d-1", "not issued: nothing to give back")
    assert ledger.line("holiday_gift") == (0, 0, 0)
    assert [type(e).__name__ for e in ledger.pending] == [
        "LedgerOpened",
        "EntitlementReserved",
        "ReservationReleased",
    ]


def test_the_same_disbursement_asked_again_gets_its_first_answer() -> None:
    ledger = _opened()
    assert _reserve(ledger, HOLIDAY_CAP, "d-1") == "reserved"
    assert _reserve(ledger, 1, "d-2") == "rejected"  # the year's cap is reached
    assert _reserve(ledger, HOLIDAY_CAP, "d-1") == "reserved"  # asked again: no second entry
    assert ledger.line("holiday_gift") == (0, HOLIDAY_CAP, 1)
    assert len(ledger.pending) == 3


async def test_a_saved_ledger_loads_as_it_was_and_a_stale_writer_conflicts() -> None:
    store = InMemoryEventStore(FixedClock())
    ledger = _opened()
    _reserve(ledger, 30000, "d-1")
    ledger.commit("d-1")
    await ledger_repository(store).save(ledger)
    loaded = await ledger_repository(store).get("m-1-2026")
    assert loaded is not None and loaded.version == 3
    assert loaded.line("holiday_gift") == (30000, 0, 1)
    assert loaded.decisions["d-1"].status == "committed"
    stale = await ledger_repository(store).get("m-1-2026")
    assert stale is not None
    _reserve(loaded, 10000, "d-2")
    await ledger_repository(store).save(loaded)
    _reserve(stale, 10000, "d-3")  # decided on a ledger another writer has since changed
    with pytest.raises(ConcurrencyConflict):
        await ledger_repository(store).save(stale)
    final = await ledger_repository(store).get("m-1-2026")
    assert final is not None and final.line("holiday_gift") == (30000, 10000, 2)


def test_a_ledger_opens_with_the_caps_of_its_own_policy_version() -> None:
    """Ledger lines are built once per policy version; a later version's caps must not be
    answered from an earlier version's lines."""
    lower = POLICY.model_copy(
        update={
            "version": "lower",
            "member_benefits": {
                **POLICY.member_benefits,
                "holiday_gift": POLICY.member_benefits["holiday_gift"].model_copy(
                    update={"cap_fen": 1000}
                ),
            },
        }
    )
    for policy, cap in ((POLICY, HOLIDAY_CAP), (lower, 1000), (POLICY, HOLIDAY_CAP)):
        ledger = MemberLedger("ledger-m-9-2026")
        ledger.open(member_id="m-9", year=2026, base_union="u", policy=policy, source_event_id="p")
        opened = ledger.pending[0]
        assert isinstance(opened, LedgerOpened)
        assert {line.benefit: line.cap_fen for line in opened.lines}["holiday_gift"] == cap
