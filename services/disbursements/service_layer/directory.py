"""What disbursements keeps of other services' facts: members (for scoping, batches and
payroll's employee numbers) and the unions' voucher expiry."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.disbursements.adapters.tables import (
    member_directory,
    union_finances,
    voucher_settings,
)
from services.entitlements.contracts import UnionFinancesRecorded, UnionStandardSet
from services.members.contracts import (
    MemberDetailsCorrected,
    MemberEvent,
    MemberRegistered,
    MemberRejoined,
    MembershipEnded,
    MemberTransferred,
)
from shared.db.sql import insert_on_conflict
from shared.uow import Transaction

_REGISTER = insert_on_conflict(
    member_directory,
    [
        "member_id",
        "base_union",
        "birth_month",
        "employee_number",
        "employee_number_source",
        "name",
        "status",
    ],
    ["member_id"],
)


async def note_registrations(tx: Transaction, events: list[MemberRegistered]) -> None:
    """New members, in one statement (a roster import registers thousands)."""
    await tx.session.execute(
        _REGISTER,
        [
            {
                "member_id": e.member_id,
                "base_union": e.base_union,
                "birth_month": e.birth_date.month,
                "employee_number": e.employee_number,
                "employee_number_source": e.employee_number_source,
                "name": e.name,
                "status": "active",
            }
            for e in events
        ],
    )


async def note_member(tx: Transaction, event: MemberEvent) -> None:
    where = member_directory.c.member_id == event.member_id
    match event:
        case MemberRegistered():
            await note_registrations(tx, [event])
        case MemberTransferred():
            await tx.session.execute(
                update(member_directory).where(where).values(base_union=event.to_union)
            )
        case MembershipEnded():
            await tx.session.execute(update(member_directory).where(where).values(status="ended"))
        case MemberRejoined():
            await tx.session.execute(
                update(member_directory)
                .where(where)
                .values(status="active", base_union=event.base_union)
            )
        case MemberDetailsCorrected():
            values: dict[str, object] = {}
            if event.employee_number:
                values["employee_number"] = event.employee_number
            if event.name:
                values["name"] = event.name
            if event.birth_date:
                values["birth_month"] = event.birth_date.month
            if values:
                await tx.session.execute(update(member_directory).where(where).values(**values))


async def note_union_standard(tx: Transaction, event: UnionStandardSet) -> None:
    if event.benefit != "voucher" or event.expiry_days is None:
        return
    await tx.session.execute(
        pg_insert(voucher_settings)
        .values(
            union_path=event.union,
            effective_from=event.effective_from,
            expiry_days=event.expiry_days,
        )
        .on_conflict_do_update(
            index_elements=[voucher_settings.c.union_path, voucher_settings.c.effective_from],
            set_={"expiry_days": event.expiry_days},
        )
    )


async def note_union_finances(tx: Transaction, event: UnionFinancesRecorded) -> None:
    values = {
        "dues_income_fen": event.dues_income_fen,
        "culture_sports_limit_fen": event.culture_sports_limit_fen,
        "consumption_share_fen": event.consumption_share_fen,
    }
    await tx.session.execute(
        pg_insert(union_finances)
        .values(union_path=event.union, year=event.year, **values)
        .on_conflict_do_update(
            index_elements=[union_finances.c.union_path, union_finances.c.year], set_=values
        )
    )
