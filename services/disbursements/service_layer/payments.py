"""Payroll's answers applied: an entry paid, or its payment failed (`domain/payroll.py`)."""

from __future__ import annotations

from services.disbursements.adapters import repository as repo
from services.disbursements.domain.model import UnknownEntry
from services.disbursements.domain.payroll import PayrollResult
from shared.uow import Transaction


async def answered(tx: Transaction, result: PayrollResult) -> bool:
    """Applied once: False when this answer was applied before. An answer for a disbursement
    or an entry Jinhui never sent raises `UnknownEntry`; one contradicting an earlier answer,
    `Conflict`."""
    disbursements = repo.disbursement_repository(tx.events)
    disbursement = await disbursements.get(result.disbursement_id, for_update=True)
    if disbursement is None or disbursement.opened is None:
        raise UnknownEntry(f"no disbursement {result.disbursement_id}")
    if not disbursement.answer(result):
        return False
    await disbursements.save(disbursement, metadata={"actor": "payroll"})
    return True
