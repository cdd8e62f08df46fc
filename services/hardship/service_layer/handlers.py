"""Caseworkers' commands on household files, each in the caller's transaction, each audited."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, text

from services.hardship.adapters import repository as repo
from services.hardship.adapters.tables import cases, member_unions
from services.hardship.contracts import HardshipLevel
from services.hardship.domain.case import Case
from services.hardship.domain.commands import (
    AssessCase,
    CaseCommand,
    CloseCase,
    CompleteReview,
    ConvertEmergency,
    EnterRegister,
    ExitRegister,
    ReEnterRegister,
    StartReview,
)
from services.hardship.domain.criteria import Criteria, CriteriaBook
from services.hardship.domain.household import Household
from services.hardship.service_layer import early_warning
from shared.auth import Principal
from shared.clock import Clock, business_date
from shared.errors import InvalidInput, NotFound
from shared.orgs import org_contains
from shared.tasks import arrived
from shared.uow import Transaction
from shared.vault import IdentityVault


@dataclass(frozen=True)
class HardshipContext:
    vault: IdentityVault
    clock: Clock
    criteria: CriteriaBook
    # A member registered a moment ago is on its way here over `members.events.v1`: a relief
    # for them waits this long before the member is called unknown.
    member_wait_s: float = 20.0

    def today(self) -> date:
        return business_date(self.clock)


def _hashes(ctx: HardshipContext, household: Household) -> list[str]:
    return sorted(
        ctx.vault.fingerprint(p.id_number.get_secret_value().strip().upper())
        for p in household.people
        if p.id_number
    )


async def _store_household(
    ctx: HardshipContext, tx: Transaction, case_id: str, household: Household
) -> None:
    sealed = ctx.vault.seal(json.dumps(household.clear(), ensure_ascii=False))
    await repo.save_household(tx.session, case_id, household.city, sealed, _hashes(ctx, household))


async def read_household(ctx: HardshipContext, tx: Transaction, case_id: str) -> Household | None:
    row = await repo.household(tx.session, case_id)
    if row is None:
        return None
    return Household.model_validate(json.loads(ctx.vault.open(row["sealed"])))


async def audit(
    ctx: HardshipContext,
    tx: Transaction,
    caller: Principal,
    action: str,
    case_id: str | None,
    why: str,
) -> None:
    await repo.audit(tx.session, ctx.clock.now(), caller.subject, action, case_id, why)


async def load_case(tx: Transaction, caller: Principal, case_id: str) -> Case:
    """The case, locked for this transaction; 404 outside the caller's subtree (existence is
    not disclosed)."""
    case = await repo.CaseRepository(tx.events).get(case_id, for_update=True)
    if case is None or not caller.can_reach(case.state.union):
        raise NotFound(f"no case {case_id}")
    return case


async def save(tx: Transaction, case: Case, caller: Principal) -> None:
    await repo.CaseRepository(tx.events).save(case, metadata={"actor": caller.subject})


async def intake(
    ctx: HardshipContext,
    tx: Transaction,
    caller: Principal,
    *,
    union: str,
    source: str,
    household: Household,
    emergency: bool = False,
) -> tuple[str, bool]:
    """A new file, or — when a member or an ID number of the household is already in an open
    file the caller may see — that file, with this intake joined to it. A file in a union the
    caller cannot see is neither named nor revealed: the caller's union gets its own file and
    the pair is flagged for a province-level reviewer."""
    member_ids = sorted({p.member_id for p in household.people if p.member_id})
    hashes = _hashes(ctx, household)
    keys = [f"m:{m}" for m in member_ids] + [f"h:{h}" for h in hashes]
    await tx.session.execute(
        text(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 10)) "
            "FROM unnest(CAST(:k AS text[])) k"
        ),
        {"k": sorted(keys)},
    )
    found = await repo.open_case_for(tx.session, member_ids, hashes)
    if found is not None and caller.can_reach(found[1]):
        existing = found[0]
        case = await load_case(tx, caller, existing)
        case.join(member_ids=member_ids, source=source, on=ctx.today(), actor=caller.subject)
        await save(tx, case, caller)
        await audit(ctx, tx, caller, "intake-joined", existing, source)
        return existing, True
    case_id = f"c-{uuid.uuid4().hex[:20]}"
    if found is not None:
        await repo.flag_duplicate(tx.session, case_id, found[0], ctx.clock.now())
    case = repo.CaseRepository(tx.events).new(case_id)
    case.open(
        union=union,
        member_ids=member_ids,
        source=source,
        on=ctx.today(),
        emergency=emergency,
        actor=caller.subject,
    )
    await _store_household(ctx, tx, case_id, household)
    await save(tx, case, caller)
    await audit(ctx, tx, caller, "intake", case_id, source)
    return case_id, False


async def _assessed_level(
    ctx: HardshipContext, tx: Transaction, case_id: str, household: Household | None, sudden: bool
) -> HardshipLevel | None:
    if household is not None:
        await _store_household(ctx, tx, case_id, household)
    else:
        household = await read_household(ctx, tx, case_id)
        if household is None:
            raise InvalidInput("record the household before assessing it", field="household")
    criteria = ctx.criteria.in_force(ctx.today())
    return criteria.level(
        household.city, household.monthly_income_per_head_fen, list(household.causes), sudden
    )


async def handle(
    ctx: HardshipContext, tx: Transaction, caller: Principal, command: CaseCommand
) -> Case:
    """One step of a file, audited with its reason."""
    case = await load_case(tx, caller, command.case_id)
    was = case.state.status
    criteria = ctx.criteria.in_force(ctx.today())
    today, actor, why = ctx.today(), caller.subject, command.why
    match command:
        case AssessCase() | CompleteReview() | ReEnterRegister():
            level = await _assessed_level(
                ctx, tx, command.case_id, command.household, command.sudden
            )
            _reassess(case, command, level, criteria, today, actor)
        case EnterRegister():
            case.enter_register(criteria, today, actor)
        case StartReview():
            case.start_review(today, why or "scheduled review", actor)
        case ExitRegister():
            case.exit(why or "out_of_hardship", criteria, today, actor)
        case CloseCase():
            case.close(why, today, actor)
        case ConvertEmergency():
            if command.household is not None:
                await _store_household(ctx, tx, command.case_id, command.household)
            case.convert_emergency(today, actor)
        case _:
            raise AssertionError(f"no handler for {type(command).__name__}")
    await save(tx, case, caller)
    await audit(ctx, tx, caller, command.action, command.case_id, why)
    if case.state.status == "exited" and was != "exited":
        source = f"{command.case_id}@{case.version}"
        await early_warning.on_exit(tx, case.state.member_ids, case.state.union, today, source)
    return case


def _reassess(
    case: Case,
    command: CaseCommand,
    level: HardshipLevel | None,
    criteria: Criteria,
    today: date,
    actor: str,
) -> None:
    """The steps that assess the household again, with the level its details give."""
    if isinstance(command, AssessCase):
        case.assess(level, criteria, today, actor)
    elif isinstance(command, CompleteReview):
        case.complete_review(level, criteria, today, actor)
    elif level is None:
        raise InvalidInput(
            "the re-assessment finds the household not in hardship", rule="case.not-in-hardship"
        )
    else:
        case.re_enter(level, criteria, today, actor)


async def request_relief(
    ctx: HardshipContext, tx: Transaction, caller: Principal, case_id: str, **relief: Any
) -> str:
    case = await load_case(tx, caller, case_id)
    await _member_in_reach(ctx, tx, caller, str(relief["member_id"]), case.state.union)
    relief_id = f"r-{uuid.uuid4().hex[:16]}"
    case.request_relief(
        relief_id=relief_id,
        criteria=ctx.criteria.in_force(ctx.today()),
        on=ctx.today(),
        actor=caller.subject,
        **relief,
    )
    await save(tx, case, caller)
    await audit(ctx, tx, caller, "relief-requested", case_id, relief["purpose"])
    return relief_id


async def _member_in_reach(
    ctx: HardshipContext, tx: Transaction, caller: Principal, member_id: str, file_union: str
) -> None:
    """Relief is paid to a member: one this service knows, in the caller's part of the tree
    and in the union that keeps the file (a file of one union pays none of another's members).
    Anything else is refused here, before a grant that disbursements could never pay (a
    made-up id once answered 201 and died in a dead-letter topic); outside the caller's tree
    the member does not exist."""
    lookup = select(member_unions.c.base_union).where(member_unions.c.member_id == member_id)
    union = await arrived(lambda: tx.session.scalar(lookup), ctx.member_wait_s, every_s=0.25)
    if union is None or not (org_contains(caller.org, union) and org_contains(file_union, union)):
        raise NotFound(
            "找不到该会员（the member is not known in your part of the union tree）",
            field="member_id",
            rule="member.unknown",
        )


async def approve_relief(
    ctx: HardshipContext, tx: Transaction, caller: Principal, case_id: str, relief_id: str
) -> None:
    case = await load_case(tx, caller, case_id)
    case.approve_relief(relief_id, ctx.today(), caller.subject)
    await save(tx, case, caller)
    await audit(ctx, tx, caller, "relief-approved", case_id, relief_id)


async def emergency(
    ctx: HardshipContext,
    tx: Transaction,
    caller: Principal,
    *,
    union: str,
    household: Household,
    member_id: str,
    amount_fen: int,
    in_kind: bool,
    purpose: str,
) -> tuple[str, str]:
    """Same-day relief on a short intake; the file is converted or closed within the set time."""
    case_id, _ = await intake(
        ctx, tx, caller, union=union, source="emergency", household=household, emergency=True
    )
    relief_id = await request_relief(
        ctx,
        tx,
        caller,
        case_id,
        member_id=member_id,
        amount_fen=amount_fen,
        in_kind=in_kind,
        purpose=purpose,
    )
    await early_warning.on_emergency(tx, member_id, ctx.today(), f"{case_id}:emergency")
    return case_id, relief_id


async def cases_with_member(tx: Transaction, member_id: str) -> list[str]:
    rows = await tx.session.scalars(
        select(cases.c.case_id).where(
            cases.c.member_ids.any_() == member_id, cases.c.status == "on_register"
        )
    )
    return list(rows)


async def bring_reviews_forward(
    ctx: HardshipContext, tx: Transaction, member_id: str, why: str, within_days: int = 30
) -> int:
    """A member event that may change a household's situation brings its review forward."""
    brought = 0
    system = Principal(subject="member-events", roles=frozenset(), org="shanxi")
    for case_id in await cases_with_member(tx, member_id):
        case = await repo.CaseRepository(tx.events).get(case_id, for_update=True)
        if case is None:
            continue
        case.bring_review_forward(ctx.today() + timedelta(days=within_days), why, system.subject)
        if case.pending:
            await save(tx, case, system)
            brought += 1
    return brought


async def duplicates(session: Any) -> list[dict[str, Any]]:
    return await repo.duplicates(session)
