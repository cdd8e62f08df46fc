"""Disbursement aggregates, and the read model kept in step with their events."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursements.adapters.tables import (
    disbursements,
    member_directory,
    voucher_settings,
)
from services.disbursements.domain.events import (
    DisbursementApproved,
    DisbursementCancelled,
    DisbursementIssued,
    DisbursementOpened,
    DisbursementRejected,
    DisbursementReversed,
    VoucherRedeemed,
)
from services.disbursements.domain.model import Disbursement
from shared.aggregate import Repository
from shared.events import DomainEvent
from shared.eventstore.store import EventStore


def disbursement_repository(store: EventStore) -> Repository[Disbursement]:
    return Repository(store, Disbursement, "disbursement", projector=project)


def opened_row(event: DisbursementOpened) -> dict[str, Any]:
    expires = event.details.get("expires_on")
    return {
        "disbursement_id": event.disbursement_id,
        "member_id": event.member_id,
        "base_union": event.base_union,
        "benefit": event.benefit,
        "amount_fen": event.amount_fen,
        "business_date": event.business_date,
        "status": "pending",
        "details": event.details,
        "batch_id": event.batch_id,
        "requested_by": event.requested_by,
        "expires_on": date.fromisoformat(str(expires)) if expires else None,
    }


async def project(session: AsyncSession, event: DomainEvent) -> None:
    values: dict[str, Any]
    match event:
        case DisbursementOpened():
            await session.execute(insert(disbursements), [opened_row(event)])
            return
        case DisbursementApproved():
            values = {"status": "approved", "year": event.year}
            values |= event.model_dump(
                include={"clause", "policy_version", "remaining_fen", "remaining_count"}
            )
        case DisbursementRejected():
            values = {"status": "rejected"} | event.model_dump(
                include={"reason", "clause", "policy_version", "remaining_fen", "remaining_count"}
            )
        case DisbursementIssued():
            values = {"status": "issued"}
        case DisbursementCancelled():
            values = {"status": "cancelled", "reason": event.reason}
        case DisbursementReversed():
            values = {"status": "reversed", "reason": event.reason}
        case VoucherRedeemed():
            values = {"redeemed_on": event.redeemed_on}
        case _:
            return
    await session.execute(
        update(disbursements)
        .where(disbursements.c.disbursement_id == event.disbursement_id)  # type: ignore[attr-defined]
        .values(**values, updated_at=func.now())
    )


async def read(session: AsyncSession, disbursement_id: str) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                select(disbursements).where(disbursements.c.disbursement_id == disbursement_id)
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def directory_entry(session: AsyncSession, member_id: str) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                select(member_directory).where(member_directory.c.member_id == member_id)
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def voucher_expiry_days(session: AsyncSession, union: str, on: date) -> int | None:
    """The nearest union's setting in force on `on` (the base union's before its ancestors')."""
    parts = union.split("/")
    chain = ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]
    rows = (
        await session.execute(
            select(voucher_settings.c.union_path, voucher_settings.c.expiry_days)
            .where(
                voucher_settings.c.union_path.in_(chain), voucher_settings.c.effective_from <= on
            )
            .order_by(voucher_settings.c.effective_from)
        )
    ).all()
    latest = {path: days for path, days in rows}
    return next((latest[p] for p in chain if p in latest), None)
