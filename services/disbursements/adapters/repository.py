"""Disbursement aggregates, and the read model kept in step with their events."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Update, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.disbursements.adapters.tables import (
    batch_counts,
    disbursements,
    member_directory,
    payroll_entries,
    voucher_settings,
)
from services.disbursements.contracts import (
    DisbursementCancelled,
    DisbursementIssued,
    DisbursementReversed,
    PayrollBenefitIssued,
    PayrollBenefitReversed,
    PayrollEvent,
)
from services.disbursements.domain.events import (
    DisbursementApproved,
    DisbursementOpened,
    DisbursementPaid,
    DisbursementPaymentFailed,
    DisbursementReissued,
    DisbursementRejected,
    PaymentAnswered,
    VoucherRedeemed,
)
from services.disbursements.domain.model import Disbursement
from shared.aggregate import Repository
from shared.db.sql import Write
from shared.events import DomainEvent
from shared.eventstore.store import EventStore


def disbursement_repository(store: EventStore) -> Repository[Disbursement]:
    return Repository(store, Disbursement, "disbursement", projector=writes)


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


_INSERT = insert(disbursements)


def writes(events: Sequence[DomainEvent]) -> list[Write]:
    """What `events` change in the `disbursements` and `payroll_entries` read tables. The
    updates of one disbursement in a row merge into one (approved and issued: one update per
    batch line); the payroll entries follow, one statement for a batch's lines."""
    done: list[Write] = []
    entries: list[Write] = []
    pending: tuple[str, dict[str, Any]] | None = None
    for event in events:
        if isinstance(event, PayrollEvent | PaymentAnswered):
            entries.extend(_entry_writes(event))
            continue
        if isinstance(event, DisbursementOpened):
            if pending:
                done.append(_update_write(*pending))
                pending = None
            done.append((_INSERT, opened_row(event)))
            continue
        values = _changes(event)
        if values is None:
            continue
        disbursement_id = event.disbursement_id  # type: ignore[attr-defined]
        if pending and pending[0] == disbursement_id:
            pending[1].update(values)
        else:
            if pending:
                done.append(_update_write(*pending))
            pending = (disbursement_id, values)
    if pending:
        done.append(_update_write(*pending))
    return done + entries


def _changes(event: DomainEvent) -> dict[str, Any] | None:
    values: dict[str, Any]
    match event:
        case DisbursementApproved():
            values = {"status": "approved", "year": event.year}
            values |= event.model_dump(
                include={"clause", "policy_version", "remaining_fen", "remaining_count"}
            )
        case DisbursementRejected():
            values = {"status": "rejected"} | event.model_dump(
                include={
                    "reason",
                    "reason_en",
                    "rule",
                    "clause",
                    "policy_version",
                    "remaining_fen",
                    "remaining_count",
                }
            )
        case DisbursementIssued():
            values = {"status": "issued"}
        case DisbursementCancelled():
            values = {"status": "cancelled", "reason": event.reason}
        case DisbursementReversed():
            values = {"status": "cancelled" if event.unpaid else "reversed", "reason": event.reason}
        case DisbursementReissued():
            values = {"status": "issued"}
        case VoucherRedeemed():
            values = {"redeemed_on": event.redeemed_on}
        case _:
            return None
    return values


_NEW_ENTRY = pg_insert(payroll_entries).on_conflict_do_nothing()
_ANSWER = (
    update(payroll_entries)
    .where(payroll_entries.c.entry_id == bindparam("e"))
    .values(
        answer=bindparam("v_answer"),
        paid_pay_period=bindparam("v_paid_pay_period"),
        paid_on=bindparam("v_paid_on"),
        payroll_reference=bindparam("v_payroll_reference"),
        failure_code=bindparam("v_failure_code"),
        failure_text=bindparam("v_failure_text"),
        failed_on=bindparam("v_failed_on"),
        answered_at=func.now(),
    )
)
# An answer moves the disbursement only while it waits for that answer (see the model).
_ANSWERED = (
    update(disbursements)
    .where(disbursements.c.disbursement_id == bindparam("d"), disbursements.c.status == "issued")
    .values(status=bindparam("v_status"), updated_at=func.now())
)


def _entry_writes(event: PayrollEvent | PaymentAnswered) -> list[Write]:
    if isinstance(event, PayrollEvent):
        kind = "reversed" if isinstance(event, PayrollBenefitReversed) else "issued"
        if isinstance(event, PayrollBenefitIssued) and not event.entry_id.endswith("/issued"):
            kind = "reissued"
        row = event.model_dump(include=set(payroll_entries.c.keys()))
        return [(_NEW_ENTRY, {**row, "kind": kind})]
    paid = isinstance(event, DisbursementPaid)
    failed = event if isinstance(event, DisbursementPaymentFailed) else None
    answer = {
        "e": event.entry_id,
        "v_answer": "paid" if paid else "failed",
        "v_paid_pay_period": event.pay_period if isinstance(event, DisbursementPaid) else None,
        "v_paid_on": event.paid_on if isinstance(event, DisbursementPaid) else None,
        "v_payroll_reference": (
            event.payroll_reference if isinstance(event, DisbursementPaid) else None
        ),
        "v_failure_code": failed.reason_code if failed else None,
        "v_failure_text": failed.reason_text if failed else None,
        "v_failed_on": failed.failed_on if failed else None,
    }
    writes: list[Write] = [(_ANSWER, answer)]
    if event.current:
        status = "paid" if paid else "payment_failed"
        writes.append((_ANSWERED, {"d": event.disbursement_id, "v_status": status}))
    return writes


def _update_write(disbursement_id: str, values: dict[str, Any]) -> Write:
    parameters = {f"v_{k}": v for k, v in values.items()}
    return _update(tuple(sorted(values))), {"d": disbursement_id, **parameters}


@functools.cache
def _update(columns: tuple[str, ...]) -> Update:
    return (
        update(disbursements)
        .where(disbursements.c.disbursement_id == bindparam("d"))
        .values({**{c: bindparam(f"v_{c}") for c in columns}, "updated_at": func.now()})
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


_K = batch_counts.c
_BATCH_COUNTS = (
    select(_K.status, func.sum(_K.lines), func.sum(_K.amount_fen))
    .where(_K.batch_id == bindparam("b"))
    .group_by(_K.status)
    .having(func.sum(_K.lines) != 0)
    .order_by(_K.status)
)


async def kept_batch_counts(
    db: AsyncSession | AsyncConnection, batch_id: str
) -> dict[str, tuple[int, int]]:
    """A batch's lines and fen by status, from the rows its lines' transactions keep (the
    trigger of migration 0010); a status no line holds now is left out."""
    rows = (await db.execute(_BATCH_COUNTS, {"b": batch_id})).all()
    return {status: (int(n), int(fen)) for status, n, fen in rows}


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
