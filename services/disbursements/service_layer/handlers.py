"""Command handlers of disbursements: request, decide (from entitlements), issue, cancel,
reverse, redeem, expire — each in the caller's transaction."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, assert_never

from sqlalchemy import select

from services.disbursements.adapters import repository as repo
from services.disbursements.adapters.tables import idempotency_keys, member_directory
from services.disbursements.domain.accounts import AccountingSubjects
from services.disbursements.domain.benefits import References, asked_directly, check_details
from services.disbursements.domain.commands import (
    CancelDisbursement,
    DisbursementCommand,
    IssueDisbursement,
    RedeemVoucher,
    ReissueDisbursement,
    ReverseDisbursement,
)
from services.disbursements.domain.events import (
    DisbursementApproved,
    DisbursementOpened,
    DisbursementRejected,
)
from services.disbursements.domain.model import Disbursement, Employee
from services.disbursements.service_layer.recuperation import check_trip
from services.entitlements.contracts import (
    Benefit,
    EntitlementRejected,
    EntitlementReserved,
    granting_level,
)
from services.hardship.contracts import ReliefGranted
from shared.auth import Principal
from shared.clock import Clock, business_date
from shared.db.notices import Notices, notify
from shared.db.sql import insert_on_conflict
from shared.errors import Conflict, InvalidInput, NotFound
from shared.runtime import Runtime
from shared.tasks import arrived
from shared.uow import Transaction


@dataclass(frozen=True)
class DisbursementsContext:
    references: References
    clock: Clock
    default_voucher_expiry_days: int = 90
    # Wakes long-polling callers when entitlements' answers are applied (on any replica).
    decided: Notices | None = None
    accounts: AccountingSubjects = field(default_factory=AccountingSubjects.bundled)
    # An entry payroll has not answered this many days after it was sent is listed to chase.
    payroll_answer_days: int = 10


DECIDED = "jinhui_disbursements_decided"


@dataclass(frozen=True)
class NewDisbursement:
    member_id: str
    benefit: Benefit
    amount_fen: int
    business_date: date
    details: dict[str, Any]
    issue_on_approval: bool = True


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


# Built once: the PostgreSQL dialect's `insert()` is compiled anew on every execution.
_CLAIM = insert_on_conflict(
    idempotency_keys,
    ["caller", "key", "request_hash", "disbursement_id"],
    ["caller", "key"],
    returning="disbursement_id",
)


async def claim_idempotency_key(tx: Transaction, caller: str, key: str, digest: str) -> str | None:
    """The disbursement already made under this key, or None when the key is new (it is then
    claimed for a new id). The same key with another body is refused."""
    new_id = f"d-{uuid.uuid4().hex[:24]}"
    claimed = await tx.session.scalar(
        _CLAIM, {"caller": caller, "key": key, "request_hash": digest, "disbursement_id": new_id}
    )
    if claimed is not None:
        return None
    row = (
        await tx.session.execute(
            select(idempotency_keys.c.request_hash, idempotency_keys.c.disbursement_id).where(
                idempotency_keys.c.caller == caller, idempotency_keys.c.key == key
            )
        )
    ).one()
    if row.request_hash != digest:
        raise InvalidInput(
            "this Idempotency-Key was used with a different request",
            field="Idempotency-Key",
            rule="idempotency.key-reused",
        )
    return str(row.disbursement_id)


async def key_target(tx: Transaction, caller: str, key: str) -> str:
    return str(
        await tx.session.scalar(
            select(idempotency_keys.c.disbursement_id).where(
                idempotency_keys.c.caller == caller, idempotency_keys.c.key == key
            )
        )
    )


async def open_disbursement(
    ctx: DisbursementsContext,
    tx: Transaction,
    disbursement_id: str,
    new: NewDisbursement,
    caller: Principal,
    *,
    batch_id: str | None = None,
    member: dict[str, Any] | None = None,
    through_workflow: bool = False,
) -> Disbursement:
    """Check the benefit's own rules and open the disbursement: it asks entitlements. Only a
    workflow's own door (`through_workflow`) opens a benefit that belongs to it."""
    if not through_workflow:
        asked_directly(new.benefit)
    today = business_date(ctx.clock)
    if new.business_date > today:
        raise InvalidInput(
            f"业务日期 {new.business_date} 晚于今天 {today}（Asia/Shanghai），不能预先发放",
            field="business_date",
            rule="period.future",
            detail_en=f"the business date {new.business_date} is after today, {today} "
            "(Asia/Shanghai): nothing is paid in advance",
        )
    member = member or await reachable_member(tx, caller, new.member_id)
    details = await _details(ctx, tx, new, member["base_union"])
    disbursement = repo.disbursement_repository(tx.events).new(disbursement_id)
    disbursement.open(
        DisbursementOpened(
            disbursement_id=disbursement_id,
            member_id=new.member_id,
            base_union=member["base_union"],
            benefit=new.benefit.value,
            amount_fen=new.amount_fen,
            business_date=new.business_date,
            details=details,
            requested_by=caller.subject,
            batch_id=batch_id,
            issue_on_approval=new.issue_on_approval,
            requested_on=today,
            granting_level=granting_level(caller.org, member["base_union"]),
        )
    )
    return disbursement


async def _details(
    ctx: DisbursementsContext, tx: Transaction, new: NewDisbursement, base_union: str
) -> dict[str, Any]:
    """The benefit's own details, checked; a recuperation against its plan, a voucher with the
    day it expires."""
    details = check_details(
        new.benefit, new.details, new.amount_fen, ctx.references, new.business_date
    )
    if new.benefit is Benefit.RECUPERATION:
        clause = ctx.references.clauses["recuperation"]
        await check_trip(tx.session, base_union, new.member_id, details, new.amount_fen, clause)
    if new.benefit is Benefit.VOUCHER:
        days = await repo.voucher_expiry_days(tx.session, base_union, new.business_date)
        expiry = days or ctx.default_voucher_expiry_days
        expires_on = new.business_date + timedelta(days=expiry)
        today = business_date(ctx.clock)
        if expires_on < today:
            raise InvalidInput(
                f"按业务日期 {new.business_date} 计，消费券已于 {expires_on} 过期，不能再发放"
                f"（a voucher dated {new.business_date} would have expired on {expires_on})",
                field="business_date",
                rule="voucher.expired-on-issue",
            )
        details["expires_on"] = expires_on.isoformat()
    return details


async def member_arrived(runtime: Runtime, member_id: str, within_s: float) -> None:
    """Waits (on short reads of its own, holding no connection between them) until the member
    is in the directory or `within_s` has passed; the request then goes on either way."""

    async def entry() -> dict[str, Any] | None:
        async with runtime.sessions() as session:
            return await repo.directory_entry(session, member_id)

    await arrived(entry, within_s)


async def reachable_member(tx: Transaction, caller: Principal, member_id: str) -> dict[str, Any]:
    member = await repo.directory_entry(tx.session, member_id)
    if member is None or not caller.can_reach(member["base_union"]):
        raise NotFound(f"no member {member_id}", field="member_id")
    if member["status"] != "active":
        raise Conflict("the membership has ended", rule="member.ended", field="member_id")
    return member


async def decided(tx: Transaction, event: EntitlementReserved | EntitlementRejected) -> None:
    """Entitlements answered: approve (and issue, unless asked to wait) or reject."""
    await decided_many(tx, [event])


async def decided_many(
    tx: Transaction, events: list[EntitlementReserved | EntitlementRejected]
) -> None:
    """Entitlements' answers to consecutive requests (a batch's lines), in a handful of
    statements."""
    disbursements = repo.disbursement_repository(tx.events)
    loaded = await disbursements.get_many([e.disbursement_id for e in events], for_update=True)
    members = sorted({e.member_id for e in events})
    d = member_directory.c
    numbers = {
        member_id: Employee(number, source)
        for member_id, number, source in (
            await tx.session.execute(
                select(d.member_id, d.employee_number, d.employee_number_source).where(
                    d.member_id.in_(members)
                )
            )
        ).all()
    }
    appends = []
    for event in events:
        disbursement = loaded.get(event.disbursement_id)
        if disbursement is None:
            continue  # a decision for a check or another system's request
        disbursement.decided(_outcome(event), numbers.get(event.member_id, Employee()))
        appends.append(disbursements.take(disbursement, {"actor": "entitlements"}))
    await disbursements.write(appends)
    if appends:
        await notify(tx.session, DECIDED, [e.disbursement_id for e in events])


def _outcome(
    event: EntitlementReserved | EntitlementRejected,
) -> DisbursementApproved | DisbursementRejected:
    common: dict[str, Any] = {
        "disbursement_id": event.disbursement_id,
        "clause": event.clause,
        "policy_version": event.policy_version,
        "remaining_fen": event.remaining_fen,
        "remaining_count": event.remaining_count,
    }
    if isinstance(event, EntitlementReserved):
        return DisbursementApproved(**common, year=event.year)
    return DisbursementRejected(
        **common, reason=event.reason, reason_en=event.reason_en, rule=event.rule
    )


async def employee_of(tx: Transaction, member_id: str) -> Employee:
    d = member_directory.c
    row = (
        await tx.session.execute(
            select(d.employee_number, d.employee_number_source).where(d.member_id == member_id)
        )
    ).first()
    return Employee(*row) if row else Employee()


async def handle(
    tx: Transaction, caller: Principal, command: DisbursementCommand, on: date
) -> None:
    """One command on an existing disbursement, by a caller who can reach its member."""
    disbursements = repo.disbursement_repository(tx.events)
    disbursement = await disbursements.get(command.disbursement_id, for_update=True)
    opened = disbursement.opened if disbursement is not None else None
    if disbursement is None or opened is None or not caller.can_reach(opened.base_union):
        raise NotFound(f"no disbursement {command.disbursement_id}")
    number = await employee_of(tx, disbursement.partition_key())
    match command:
        case IssueDisbursement():
            disbursement.issue(number)
        case CancelDisbursement(reason=reason):
            disbursement.cancel(reason, on)
        case ReverseDisbursement(reason=reason):
            disbursement.reverse(reason, number, on)
        case ReissueDisbursement(reason=reason):
            disbursement.reissue(reason, number, on)
        case RedeemVoucher():
            disbursement.redeem(on)
        case _:
            assert_never(command)
    await disbursements.save(disbursement, metadata={"actor": caller.subject})


def _granted_by(granted: ReliefGranted, member: dict[str, Any]) -> Principal:
    """The relief is requested of disbursements as the case's union did it (which decides the
    granting level), by the approver; a grant recorded before unions were named in it counts as
    the member's base union's."""
    return Principal(
        subject=f"hardship:{granted.approved_by or 'register'}",
        roles=frozenset(),
        org=granted.union or member["base_union"],
    )


async def pay_relief(ctx: DisbursementsContext, tx: Transaction, granted: ReliefGranted) -> None:
    """One disbursement per relief (`relief-<id>`): a redelivered grant pays nothing twice."""
    disbursement_id = f"relief-{granted.relief_id}"
    repository = repo.disbursement_repository(tx.events)
    if await repository.get(disbursement_id) is not None:
        return
    member = await repo.directory_entry(tx.session, granted.member_id)
    if member is None:
        raise LookupError("the relief's member is not known here yet")  # retried by the runner
    caller = _granted_by(granted, member)
    opened = await open_disbursement(
        ctx,
        tx,
        disbursement_id,
        NewDisbursement(
            member_id=granted.member_id,
            benefit=Benefit.HARDSHIP_RELIEF,
            amount_fen=granted.amount_fen,
            business_date=granted.granted_on,
            details={"relief_id": granted.relief_id, "case_id": granted.case_id},
        ),
        caller,
        member=member,
        through_workflow=True,
    )
    await repository.save(opened, metadata={"actor": caller.subject})
