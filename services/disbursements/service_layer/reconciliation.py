"""Month-end reconciliation: what was sent to payroll for a pay period, and what payroll
answered — paid, failed, not yet answered — beside the reversals of that period. Reads only,
from `payroll_entries` (one row per entry sent, with its answer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursements.adapters.tables import disbursements, member_directory, payroll_entries
from services.disbursements.domain.accounts import AccountingSubjects
from shared.db.sql import in_subtree

# A line's state in the reconciliation, and the order totals are told in.
STATES = ("issued", "paid", "failed", "unanswered", "reversed")


@dataclass
class Total:
    count: int = 0
    amount_fen: int = 0

    def add(self, amount_fen: int) -> None:
        self.count += 1
        self.amount_fen += amount_fen


@dataclass
class Reconciliation:
    union: str
    pay_period: str
    totals: dict[str, Total] = field(default_factory=lambda: {s: Total() for s in STATES})
    lines: list[dict[str, Any]] = field(default_factory=list)


def state_of(kind: str, answer: str | None) -> str:
    """A reversal is a reversal whatever payroll said of it; an issue is paid, failed or
    still unanswered."""
    if kind == "reversed":
        return "reversed"
    return {"paid": "paid", "failed": "failed"}.get(answer or "", "unanswered")


async def reconcile(
    session: AsyncSession, org: str, pay_period: str, accounts: AccountingSubjects
) -> Reconciliation:
    """Every entry of `pay_period` at or below `org`, with the member's 工号 and name and the
    expense subject it is booked to; totals by state. `issued` counts every issue and re-issue
    sent in the period: paid + failed + unanswered."""
    e = payroll_entries.c
    query = _with_members(
        e.answer, e.paid_pay_period, e.paid_on, e.payroll_reference, e.failure_code,
        e.failure_text,
    )  # fmt: skip
    rows = (
        await session.execute(
            query.where(e.pay_period == pay_period, in_subtree(e.base_union, org)).order_by(
                e.base_union, member_directory.c.employee_number, e.entry_id
            )
        )
    ).mappings()
    report = Reconciliation(union=org, pay_period=pay_period)
    for row in rows:
        state = state_of(row["kind"], row["answer"])
        subject = accounts.subject(row["benefit"], row["business_date"])
        report.lines.append(
            {
                **row,
                "state": state,
                "subject_code": subject.code if subject else None,
                "subject_name": subject.name if subject else None,
            }
        )
        if state != "reversed":
            report.totals["issued"].add(row["amount_fen"])
        report.totals[state].add(row["amount_fen"])
    return report


async def unanswered(
    session: AsyncSession, org: str, older_than_days: int, limit: int
) -> list[dict[str, Any]]:
    """Issues and re-issues at or below `org` sent to payroll more than `older_than_days`
    days ago that payroll has not answered, oldest first."""
    e = payroll_entries.c
    rows = (
        await session.execute(
            _with_members(e.pay_period)
            .where(
                e.answer.is_(None),
                e.kind != "reversed",
                e.sent_at < func.now() - func.make_interval(0, 0, 0, older_than_days),
                in_subtree(e.base_union, org),
            )
            .order_by(e.sent_at)
            .limit(limit)
        )
    ).mappings()
    return [dict(r) for r in rows]


def _with_members(*extra: Any) -> Select[Any]:
    """Entries with the member's 工号 and name and where the disbursement stands now."""
    e, d, m = payroll_entries.c, disbursements.c, member_directory.c
    return select(
        e.entry_id,
        e.kind,
        e.disbursement_id,
        e.member_id,
        e.base_union,
        e.benefit,
        e.amount_fen,
        e.business_date,
        e.sent_at,
        *extra,
        m.employee_number,
        m.name,
        d.status.label("disbursement_status"),
    ).select_from(
        payroll_entries.outerjoin(member_directory, m.member_id == e.member_id).outerjoin(
            disbursements, d.disbursement_id == e.disbursement_id
        )
    )
