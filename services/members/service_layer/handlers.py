"""Command handlers of the member registry: load, decide, save — in the caller's transaction.

They take a `Transaction`, so the API (a unit of work), the HR consumer (the consumer's
transaction) and the roster import (a savepoint per row) run the same code. Authorisation is
the caller's business (`access.py`); these functions decide only what the rules allow.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import SecretStr
from sqlalchemy import text

from services.members.adapters import repository as repo
from services.members.adapters.orgs import require_base_union
from services.members.contracts import MemberDetailsCorrected, MemberRegistered
from services.members.domain.commands import (
    CorrectMemberDetails,
    EndMembership,
    RecordChildBirth,
    RegisterMember,
    RegisterNewEmploymentForm,
    RejoinMember,
    TransferMember,
)
from services.members.domain.identity import IdNumber, mask_phone, parse_id_number
from services.members.domain.model import Member
from shared.auth import parse_org
from shared.clock import Clock, business_date
from shared.errors import Conflict, InvalidInput, NotFound
from shared.uow import Transaction
from shared.vault import IdentityVault


@dataclass(frozen=True)
class MembersContext:
    vault: IdentityVault
    clock: Clock


def new_member_id() -> str:
    return f"m-{uuid.uuid4().hex[:20]}"


def _repository(tx: Transaction) -> repo.MemberRepository:
    return repo.MemberRepository(tx.events, tx.session)


async def load_for_update(tx: Transaction, *member_ids: str) -> dict[str, Member]:
    """Load members under their stream locks, taken in id order so two writers never deadlock."""
    members = _repository(tx)
    loaded: dict[str, Member] = {}
    for member_id in sorted(set(member_ids)):
        member = await members.get(member_id, for_update=True)
        if member is None:
            raise NotFound(f"no member {member_id}")
        loaded[member_id] = member
    return loaded


async def save(tx: Transaction, actor: str, *members: Member) -> None:
    repository = _repository(tx)
    for member in members:
        if member.pending:
            await repository.save(member, metadata={"actor": actor})


# --- registration ------------------------------------------------------------------------------


def checked_id_number(cmd: RegisterMember, today: date) -> IdNumber:
    number = parse_id_number(cmd.id_number.get_secret_value(), today=today)
    if cmd.birth_date is not None and cmd.birth_date != number.birth_date:
        raise InvalidInput(
            "birth_date does not match the ID number", field="birth_date", rule="gb11643.birth-date"
        )
    if cmd.sex is not None and cmd.sex is not number.sex:
        raise InvalidInput("sex does not match the ID number", field="sex", rule="gb11643.sex")
    return number


async def lock_fingerprints(tx: Transaction, fingerprints: Sequence[str]) -> None:
    """Two registrations of one ID number queue here, so the second sees the first. Taken in
    sorted order, so two bulk imports never deadlock."""
    await tx.session.execute(
        text(
            "SELECT pg_advisory_xact_lock(hashtextextended(f, 11643)) "
            "FROM unnest(CAST(:f AS text[])) AS f"
        ),
        {"f": sorted(set(fingerprints))},
    )


@dataclass
class NewMember:
    """A registration decided but not yet written: the aggregate and its vault row."""

    member: Member
    identity: dict[str, object]


def new_member(
    ctx: MembersContext,
    cmd: RegisterMember,
    number: IdNumber,
    base_union: str,
    today: date,
    *,
    future_join_allowed: bool = False,
) -> NewMember:
    if cmd.join_date > today and not future_join_allowed:
        raise InvalidInput("join_date is in the future", field="join_date")
    member_id = new_member_id()
    member = Member(f"member-{member_id}")
    member.register(
        MemberRegistered(
            member_id=member_id,
            base_union=base_union,
            name=cmd.name.strip(),
            sex=number.sex,
            birth_date=number.birth_date,
            join_date=cmd.join_date,
            employment_form=cmd.employment_form,
            migrant_worker=cmd.migrant_worker,
            ethnic_minority=cmd.ethnic_minority,
            martyr_family=cmd.martyr_family,
            employee_number=cmd.employee_number,
            employee_number_source=cmd.employee_number_source,
        )
    )
    identity = {
        "member_id": member_id,
        "id_hash": ctx.vault.fingerprint(number.value),
        "id_encrypted": ctx.vault.seal(number.value),
        "id_masked": number.masked(),
        "phone_encrypted": None,
        "phone_masked": None,
        **_phone(ctx, cmd.phone),
    }
    return NewMember(member, identity)


async def write_new_members(tx: Transaction, new: Sequence[NewMember], actor: str) -> None:
    if not new:
        return
    await repo.insert_identities(tx.session, [n.identity for n in new])
    await _repository(tx).save_many([n.member for n in new], metadata={"actor": actor})


async def register_member(
    ctx: MembersContext,
    tx: Transaction,
    cmd: RegisterMember,
    actor: str,
    *,
    known_union: bool = False,
    future_join_allowed: bool = False,
) -> str:
    """Register a member; 409 with the existing member id when the ID number is registered."""
    today = business_date(ctx.clock)
    base_union = parse_org(cmd.base_union)
    number = checked_id_number(cmd, today)
    if not known_union:
        await require_base_union(tx.session, base_union)
    prepared = new_member(
        ctx, cmd, number, base_union, today, future_join_allowed=future_join_allowed
    )
    fingerprint = str(prepared.identity["id_hash"])
    await lock_fingerprints(tx, [fingerprint])
    existing = await repo.member_by_fingerprint(tx.session, fingerprint)
    if existing is not None:
        raise duplicate_id_number(existing)
    await write_new_members(tx, [prepared], actor)
    member_id = prepared.member.partition_key()
    if cmd.spouse_member_id:
        await link_spouses(tx, member_id, cmd.spouse_member_id, actor)
    return member_id


def duplicate_id_number(existing: str) -> Conflict:
    return Conflict(
        "a member with this ID number is already registered",
        rule="member.duplicate-id-number",
        member_id=existing,
    )


def _phone(ctx: MembersContext, phone: SecretStr | None) -> dict[str, object]:
    if phone is None or not phone.get_secret_value().strip():
        return {}
    value = "".join(phone.get_secret_value().split())
    if not value.replace("+", "").replace("-", "").isdigit() or not 7 <= len(value) <= 20:
        raise InvalidInput("a phone number is 7 to 20 digits", field="phone")
    return {"phone_encrypted": ctx.vault.seal(value), "phone_masked": mask_phone(value)}


async def link_spouses(tx: Transaction, member_id: str, spouse_id: str, actor: str) -> None:
    if spouse_id == member_id:
        raise InvalidInput("a member cannot be their own spouse", field="spouse_member_id")
    members = await load_for_update(tx, member_id, spouse_id)
    members[member_id].link_spouse(spouse_id)
    members[spouse_id].link_spouse(member_id)
    await save(tx, actor, *members.values())


# --- life events -------------------------------------------------------------------------------


async def record_birth(
    ctx: MembersContext, tx: Transaction, member_id: str, cmd: RecordChildBirth, actor: str
) -> tuple[str, bool]:
    """Record a child on each parent who is a member, under one child id.

    A second report of the same child (same birth date and order, from either parent's side)
    finds the child already there and adds nothing. Returns the child id and whether it is new.
    """
    other = cmd.other_parent_member_id
    if other == member_id:
        raise InvalidInput(
            "the other parent must be another member", field="other_parent_member_id"
        )
    parents = await load_for_update(tx, member_id, *([other] if other else []))
    known = [c for p in parents.values() if (c := p.same_child(cmd.birth_date, cmd.order))]
    child_id = known[0].child_id if known else f"c-{uuid.uuid4().hex[:20]}"
    today = business_date(ctx.clock)
    caller_side = parents[member_id]
    before = len(caller_side.pending)
    for parent_id, parent in parents.items():
        parent.record_birth(
            child_id=child_id,
            birth_date=cmd.birth_date,
            birth_order=cmd.order,
            within_policy=cmd.within_policy,
            other_parent=other if parent_id == member_id else member_id,
            today=today,
        )
    created = len(caller_side.pending) > before
    await save(tx, actor, *parents.values())
    return child_id, created


async def register_new_employment_form(
    tx: Transaction, member_id: str, cmd: RegisterNewEmploymentForm, actor: str
) -> None:
    member = (await load_for_update(tx, member_id))[member_id]
    member.register_new_employment_form(cmd.employment_form, cmd.registered_on, cmd.platform)
    await save(tx, actor, member)


async def end_new_employment_form(
    tx: Transaction, member_id: str, ended_on: date, actor: str
) -> None:
    member = (await load_for_update(tx, member_id))[member_id]
    member.end_new_employment_form(ended_on)
    await save(tx, actor, member)


async def transfer_member(tx: Transaction, member_id: str, cmd: TransferMember, actor: str) -> str:
    to_union = parse_org(cmd.to_union)
    await require_base_union(tx.session, to_union, field="to_union")
    member = (await load_for_update(tx, member_id))[member_id]
    member.transfer(to_union, cmd.effective_date)
    await save(tx, actor, member)
    return to_union


async def correct_member(
    ctx: MembersContext, tx: Transaction, member_id: str, cmd: CorrectMemberDetails, actor: str
) -> None:
    member = (await load_for_update(tx, member_id))[member_id]
    fields = [f for f in cmd.model_fields_set if getattr(cmd, f) is not None]
    number: IdNumber | None = None
    identity: dict[str, object] = {}
    if cmd.id_number is not None:
        number = parse_id_number(cmd.id_number.get_secret_value(), today=business_date(ctx.clock))
        fingerprint = ctx.vault.fingerprint(number.value)
        await lock_fingerprints(tx, [fingerprint])
        holder = await repo.member_by_fingerprint(tx.session, fingerprint)
        if holder not in (None, member_id):
            raise Conflict(
                "another member is registered with this ID number",
                rule="member.duplicate-id-number",
                member_id=holder,
            )
        identity = {
            "id_hash": fingerprint,
            "id_encrypted": ctx.vault.seal(number.value),
            "id_masked": number.masked(),
        }
    identity.update(_phone(ctx, cmd.phone))
    if identity:
        await repo.save_identity(tx.session, member_id, **identity)  # type: ignore[arg-type]
    member.correct(
        MemberDetailsCorrected(
            member_id=member_id,
            fields=tuple(sorted(fields)),
            name=cmd.name,
            sex=number.sex if number and number.sex != member.sex else None,
            birth_date=number.birth_date
            if number and number.birth_date != member.birth_date
            else None,
            migrant_worker=cmd.migrant_worker,
            ethnic_minority=cmd.ethnic_minority,
            martyr_family=cmd.martyr_family,
            employee_number=cmd.employee_number,
        )
    )
    await save(tx, actor, member)


async def end_membership(tx: Transaction, member_id: str, cmd: EndMembership, actor: str) -> None:
    member = (await load_for_update(tx, member_id))[member_id]
    member.end(cmd.reason, cmd.effective_date)
    await save(tx, actor, member)


async def rejoin_member(tx: Transaction, member_id: str, cmd: RejoinMember, actor: str) -> str:
    member = (await load_for_update(tx, member_id))[member_id]
    union = parse_org(cmd.base_union) if cmd.base_union else member.base_union
    await require_base_union(tx.session, union)
    member.rejoin(union, cmd.join_date)
    await save(tx, actor, member)
    return union


# --- birthdays ---------------------------------------------------------------------------------


async def reach_birthdays(
    tx: Transaction, member_ids: Sequence[str], year: int, today: date
) -> int:
    """Record `year`'s birthday for each member whose birthday has come; returns how many."""
    recorded = 0
    members = _repository(tx)
    for member_id in member_ids:
        member = await members.get(member_id, for_update=True)
        if member is not None and member.reach_birthday(year, today):
            await members.save(member, metadata={"actor": "birthday-scheduler"})
            recorded += 1
    return recorded
