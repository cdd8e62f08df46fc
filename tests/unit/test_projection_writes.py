"""Read-table writes are planned without I/O, so a chunk of a batch's lines goes to the
database as a few executemany calls; planning must keep what each row ends up as."""

from __future__ import annotations

from datetime import date

from services.disbursements.adapters.repository import writes
from services.disbursements.contracts import DisbursementIssued
from services.disbursements.domain.events import (
    DisbursementApproved,
    DisbursementOpened,
    DisbursementRejected,
)

DAY = date(2026, 9, 20)


def _opened(disbursement_id: str) -> DisbursementOpened:
    return DisbursementOpened(
        disbursement_id=disbursement_id,
        member_id=f"m-{disbursement_id}",
        base_union="shanxi/taiyuan",
        benefit="holiday_gift",
        amount_fen=30000,
        business_date=DAY,
        requested_by="finance",
    )


def _approved(disbursement_id: str) -> DisbursementApproved:
    return DisbursementApproved(
        disbursement_id=disbursement_id,
        year=2026,
        clause="7.holiday",
        policy_version="shanxi-2025-26",
        remaining_fen=190000,
        remaining_count=None,
    )


def test_approved_and_issued_lines_become_one_update_each_of_one_statement() -> None:
    events = [
        e
        for d in ("a", "b", "c")
        for e in (
            _approved(d),
            DisbursementIssued(disbursement_id=d, member_id=f"m-{d}", business_date=DAY),
        )
    ]
    planned = writes(events)
    assert len(planned) == 3
    assert len({id(statement) for statement, _ in planned}) == 1  # one executemany
    assert [(p["d"], p["v_status"], p["v_clause"]) for _, p in planned] == [
        (d, "issued", "7.holiday") for d in ("a", "b", "c")
    ]


def test_order_is_kept_between_a_new_line_and_its_decision() -> None:
    rejected = DisbursementRejected(
        disbursement_id="a",
        reason="over the cap",
        clause="7.holiday",
        policy_version="shanxi-2025-26",
        remaining_fen=0,
        remaining_count=None,
    )
    planned = writes([_opened("a"), rejected, _opened("b")])
    assert [p.get("disbursement_id") or p["d"] for _, p in planned] == ["a", "a", "b"]
    assert planned[1][1]["v_status"] == "rejected"
    assert planned[0][0] is planned[2][0]  # the inserts share their statement
