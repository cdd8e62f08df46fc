"""What an issue, a cancellation or a reversal does to the ledgers that held a reservation.

Written once: the live saga, the draft policy's what-if and the tests' model of the notice all
settle through `settle`, so they cannot drift apart.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from services.entitlements.domain.ledger import MemberLedger
from services.entitlements.domain.policy import BenefitRule
from services.entitlements.domain.union_ledger import UnionLedger

Outcome = Literal["issued", "cancelled", "reversed"]


def keeps_count(rule: BenefitRule | None) -> bool:
    """Whether a reversed grant still counts against the member's number of grants."""
    return bool(rule and rule.count_kept_once_issued)


def settle(
    ledger: MemberLedger,
    union: UnionLedger | None,
    disbursement_id: str,
    outcome: Outcome,
    *,
    reason: str = "",
    on: date | None = None,
    rule: BenefitRule | None = None,
) -> None:
    """Issued: the reservation becomes use. Cancelled: it is released back to the cap.
    Reversed: a use is given back to the cap (its count too, unless `rule` keeps it)."""
    if outcome == "reversed":
        ledger.reverse(disbursement_id, reason, on, keeps_count=keeps_count(rule))
        if union is not None:
            union.reverse(disbursement_id)
        return
    if outcome == "issued":
        ledger.commit(disbursement_id, on)
    else:
        ledger.release(disbursement_id, reason, on)
    if union is not None:
        union.settle(disbursement_id, issued=outcome == "issued")
