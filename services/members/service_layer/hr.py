"""HR events mapped onto member commands.

Idempotent by `(source, hr_event_id)`. HR systems send out of order: an event about an employee
not yet known is parked (encrypted) and applied when the hire arrives, in arrival order. An
event that breaks a rule raises a DomainError, which the consumer dead-letters with its reason.
"""

from __future__ import annotations

import json

from pydantic import SecretStr
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.members.adapters import repository as repo
from services.members.adapters.tables import hr_employees, hr_events_seen, hr_parked
from services.members.contracts import EmploymentForm
from services.members.domain.commands import (
    CorrectMemberDetails,
    EndMembership,
    RecordChildBirth,
    RegisterMember,
    RegisterNewEmploymentForm,
    RejoinMember,
    TransferMember,
)
from services.members.domain.hr import (
    ChildBirthReported,
    EmployeeDetailsChanged,
    EmployeeHired,
    EmployeeLeft,
    HrEvent,
)
from services.members.domain.identity import parse_id_number
from services.members.domain.model import Member
from services.members.service_layer import handlers
from services.members.service_layer.handlers import MembersContext
from services.members.service_layer.hr_conflicts import raise_conflict
from shared.auth import parse_org
from shared.clock import business_date
from shared.errors import ConcurrencyConflict, DomainError
from shared.events import load_event
from shared.uow import Transaction


async def apply_hr_event(ctx: MembersContext, tx: Transaction, source: str, event: HrEvent) -> str:
    """Apply one HR event; returns `applied`, `duplicate` or `parked`."""
    first_time = await tx.session.scalar(
        pg_insert(hr_events_seen)
        .values(source=source, hr_event_id=event.hr_event_id)
        .on_conflict_do_nothing()
        .returning(hr_events_seen.c.hr_event_id)
    )
    if first_time is None:
        return "duplicate"
    actor = f"hr:{source}"
    if isinstance(event, EmployeeHired):
        member_id = await _hire(ctx, tx, source, event, actor)
        if member_id is None:
            return "conflict"
        await _unpark(ctx, tx, source, event.employee_number, member_id, actor)
        return "applied"
    member_id = await _member_for(tx, source, event.employee_number)
    if member_id is None:
        await tx.session.execute(
            pg_insert(hr_parked).values(
                source=source,
                employee_number=event.employee_number,
                hr_event_id=event.hr_event_id,
                event_type=event.event_type,
                payload_encrypted=ctx.vault.seal(json.dumps(event.to_data())),
                parked_at=ctx.clock.now(),
            )
        )
        return "parked"
    await _apply(ctx, tx, source, member_id, event, actor)
    return "applied"


async def _member_for(tx: Transaction, source: str, employee_number: str) -> str | None:
    return await tx.session.scalar(
        select(hr_employees.c.member_id).where(
            hr_employees.c.source == source, hr_employees.c.employee_number == employee_number
        )
    )


async def _employee_number_of(tx: Transaction, source: str, member_id: str) -> str | None:
    return await tx.session.scalar(
        select(hr_employees.c.employee_number)
        .where(hr_employees.c.source == source, hr_employees.c.member_id == member_id)
        .limit(1)
    )


async def _link(tx: Transaction, source: str, employee_number: str, member_id: str) -> None:
    await tx.session.execute(
        pg_insert(hr_employees)
        .values(source=source, employee_number=employee_number, member_id=member_id)
        .on_conflict_do_update(
            index_elements=[hr_employees.c.source, hr_employees.c.employee_number],
            set_={"member_id": member_id},
        )
    )


async def _current(tx: Transaction, member_id: str) -> Member:
    member = await handlers.load_for_update(tx, member_id)
    return member[member_id]


async def _by_id_number(
    ctx: MembersContext, tx: Transaction, source: str, event: EmployeeHired
) -> tuple[str | None, bool]:
    """The member holding this ID number, if any; and whether the hire is a conflict (the
    number belongs to another active employee of this source)."""
    number = parse_id_number(event.id_number, today=business_date(ctx.clock))
    fingerprint = ctx.vault.fingerprint(number.value)
    await handlers.lock_fingerprints(tx, [fingerprint])
    member_id = await repo.member_by_fingerprint(tx.session, fingerprint)
    if member_id is not None:
        holder = await _employee_number_of(tx, source, member_id)
        member = await _current(tx, member_id)
        if holder is not None and holder != event.employee_number and member.status == "active":
            await raise_conflict(
                ctx,
                tx,
                source=source,
                event=event,
                kind="id-number-in-use",
                reason=f"该身份证号已属于同一 HR 来源的在职员工 {holder}，未合并"
                "（the ID number belongs to another active employee of this source）",
                base_union=parse_org(event.base_union),
                existing_member_id=member_id,
                existing_employee_number=holder,
            )
            return member_id, True
    return member_id, False


async def _hire(
    ctx: MembersContext, tx: Transaction, source: str, event: EmployeeHired, actor: str
) -> str | None:
    """A new member; or, for a known ID number or employee, the same member (re-joined if
    their membership had ended). None when the ID number belongs to an active member under
    another employee number of this same HR source: two employees are never merged silently,
    the hire goes to the conflict list. (Under another source — a second employer — the same
    person is the same member: membership follows the person, not the job.)"""
    member_id = await _member_for(tx, source, event.employee_number)
    if member_id is None:
        member_id, conflicted = await _by_id_number(ctx, tx, source, event)
        if conflicted:
            return None
    if member_id is None:
        member_id = await handlers.register_member(
            ctx,
            tx,
            RegisterMember(
                base_union=event.base_union,
                name=event.name,
                id_number=SecretStr(event.id_number),
                phone=SecretStr(event.phone) if event.phone else None,
                join_date=event.hire_date,
                employment_form=event.employment_form,
                migrant_worker=event.migrant_worker,
                ethnic_minority=event.ethnic_minority,
                martyr_family=event.martyr_family,
                employee_number=event.employee_number,
                employee_number_source=source,
            ),
            actor,
            future_join_allowed=True,
        )
    elif (await _current(tx, member_id)).status != "active":
        await handlers.rejoin_member(
            tx,
            member_id,
            RejoinMember(base_union=event.base_union, join_date=event.hire_date),
            actor,
        )
    await _link(tx, source, event.employee_number, member_id)
    return member_id


async def _apply(
    ctx: MembersContext, tx: Transaction, source: str, member_id: str, event: HrEvent, actor: str
) -> None:
    match event:
        case EmployeeDetailsChanged():
            await _details_changed(ctx, tx, member_id, event, actor)
        case ChildBirthReported():
            other = await _other_parent(ctx, tx, source, event)
            await handlers.record_birth(
                ctx,
                tx,
                member_id,
                RecordChildBirth(
                    birth_date=event.birth_date,
                    birth_order=event.birth_order,
                    within_policy=event.within_policy,
                    other_parent_member_id=other,
                ),
                actor,
            )
        case EmployeeLeft():
            if (await _current(tx, member_id)).status == "active":
                await handlers.end_membership(
                    tx,
                    member_id,
                    EndMembership(reason=event.reason, effective_date=event.left_on),
                    actor,
                )


async def _details_changed(
    ctx: MembersContext, tx: Transaction, member_id: str, event: EmployeeDetailsChanged, actor: str
) -> None:
    correction = CorrectMemberDetails.model_validate(
        event.model_dump(
            include={
                "name",
                "id_number",
                "phone",
                "migrant_worker",
                "ethnic_minority",
                "martyr_family",
            },
            exclude_none=True,
        )
    )
    if correction.model_fields_set:
        await handlers.correct_member(ctx, tx, member_id, correction, actor)
    member = await _current(tx, member_id)
    if event.base_union and parse_org(event.base_union) != member.base_union:
        await handlers.transfer_member(
            tx,
            member_id,
            TransferMember(to_union=event.base_union, effective_date=event.effective_date),
            actor,
        )
    form = event.employment_form
    if form is not None and form is not member.employment_form:
        if form is EmploymentForm.STANDARD:
            await handlers.end_new_employment_form(tx, member_id, event.effective_date, actor)
        else:
            await handlers.register_new_employment_form(
                tx,
                member_id,
                RegisterNewEmploymentForm(
                    employment_form=form,
                    registered_on=event.effective_date,
                    platform=event.platform,
                ),
                actor,
            )


async def _other_parent(
    ctx: MembersContext, tx: Transaction, source: str, event: ChildBirthReported
) -> str | None:
    if event.other_parent_employee_number:
        other = await _member_for(tx, source, event.other_parent_employee_number)
        if other:
            return other
    if event.other_parent_id_number:
        number = parse_id_number(event.other_parent_id_number)
        return await repo.member_by_fingerprint(tx.session, ctx.vault.fingerprint(number.value))
    return None


async def _unpark(
    ctx: MembersContext,
    tx: Transaction,
    source: str,
    employee_number: str,
    member_id: str,
    actor: str,
) -> None:
    """Apply what waited for this hire, each in a savepoint: one bad parked event stays parked
    with its reason and does not undo the hire."""
    rows = (
        await tx.session.execute(
            select(hr_parked.c.id, hr_parked.c.event_type, hr_parked.c.payload_encrypted)
            .where(hr_parked.c.source == source, hr_parked.c.employee_number == employee_number)
            .order_by(hr_parked.c.id)
        )
    ).all()
    for row_id, event_type, payload in rows:
        event = load_event(event_type, json.loads(ctx.vault.open(payload)))
        assert isinstance(event, HrEvent)
        try:
            async with tx.session.begin_nested():
                await _apply(ctx, tx, source, member_id, event, actor)
        except ConcurrencyConflict:
            raise
        except DomainError as exc:
            await tx.session.execute(
                update(hr_parked).where(hr_parked.c.id == row_id).values(last_error=describe(exc))
            )
            continue
        await tx.session.execute(delete(hr_parked).where(hr_parked.c.id == row_id))


def describe(exc: DomainError) -> str:
    where = ", ".join(f"{k}={v}" for k, v in exc.extensions.items() if k in ("field", "rule"))
    return f"{exc.code}: {exc.detail}" + (f" ({where})" if where else "")
