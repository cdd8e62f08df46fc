"""What entitlements does with what it hears of members and unions (the decisions themselves are
in `decisions.py`).

Handlers take a `Transaction` (a unit of work, or a consumer's transaction), so the API, the
consumers and the sweeper of waiting requests run the same code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from services.entitlements.adapters import repository as repo
from services.entitlements.contracts import (
    Benefit,
    ConsumptionAssistanceSpent,
    UnionFinancesRecorded,
)
from services.entitlements.domain.events import BirthSpacingReviewed
from services.entitlements.domain.ledger import ledger_id
from services.entitlements.domain.policy import PolicyVersion
from services.entitlements.domain.profile import MemberProfile
from services.entitlements.domain.rules import too_close
from services.entitlements.domain.union_ledger import UnionLedger, union_ledger_id
from services.entitlements.service_layer.context import EntitlementsContext
from services.entitlements.service_layer.decisions import open_ledger, reserve
from services.entitlements.service_layer.views import union_ledgers
from services.members.contracts import MemberEvent, MemberRegistered
from shared.clock import business_date
from shared.errors import Conflict, InvalidInput, NotFound
from shared.uow import Transaction

log = logging.getLogger(__name__)


# --- member facts ------------------------------------------------------------------------------


async def note_member_event(
    ctx: EntitlementsContext, tx: Transaction, event: MemberEvent, source_event_id: str
) -> None:
    """Record the fact on the member's profile, open the year's ledger for a new member, and
    decide the requests that were waiting for this member."""
    await ctx.policies.refresh(tx.events)
    profiles = repo.profile_repository(tx.events)
    profile = await profiles.get(event.member_id, for_update=True)
    if profile is None:
        if not isinstance(event, MemberRegistered):
            # Kept, not dropped: applied when the registration arrives.
            await repo.keep_early_fact(
                tx.session, event, event.member_id, source_event_id, ctx.clock.now()
            )
            return
        profile = profiles.new(event.member_id)
    profile.note(event, source_event_id)
    if isinstance(event, MemberRegistered):
        for early, source in await repo.take_early_facts(tx.session, event.member_id):
            assert isinstance(early, MemberEvent)
            profile.note(early, source)
    await profiles.save(profile)
    if isinstance(event, MemberRegistered):
        today = business_date(ctx.clock)
        await open_ledger(tx.events, profile, today.year, ctx.policies.in_force(today))
    for request in await repo.parked_for(tx.session, event.member_id):
        if await reserve(ctx, tx, request) is not None:
            await repo.unpark(tx.session, request.disbursement_id)


async def note_member_events(
    ctx: EntitlementsContext, tx: Transaction, events: list[tuple[MemberEvent, str]]
) -> None:
    """`note_member_event` for consecutive events (a roster import, a day's birthdays) in a
    handful of statements; one by one when a request waits for one of these members or an
    event comes before its member's registration."""
    members = sorted({e.member_id for e, _ in events})
    profiles_repo = repo.profile_repository(tx.events)
    profiles = await profiles_repo.get_many(members, for_update=True)
    known = set(profiles)
    for event, _ in events:
        if isinstance(event, MemberRegistered):
            known.add(event.member_id)
        elif event.member_id not in known:
            break
    else:
        waiting = await repo.any_parked(tx.session, members)
        if not waiting and not await repo.any_early_facts(tx.session, members):
            await _note_all(ctx, tx, profiles, events)
            return
    for event, source in events:
        await note_member_event(ctx, tx, event, source)


async def _note_all(
    ctx: EntitlementsContext,
    tx: Transaction,
    profiles: dict[str, MemberProfile],
    events: list[tuple[MemberEvent, str]],
) -> None:
    profiles_repo = repo.profile_repository(tx.events)
    appends, registered = [], []
    for event, source in events:
        profile = profiles.get(event.member_id)
        if profile is None:
            profile = profiles[event.member_id] = profiles_repo.new(event.member_id)
        profile.note(event, source)
        appends.append(profiles_repo.take(profile))
        if isinstance(event, MemberRegistered):
            registered.append((profile, profile.version))
    await profiles_repo.write(appends)
    if not registered:
        return
    await ctx.policies.refresh(tx.events)
    today = business_date(ctx.clock)
    policy = ctx.policies.in_force(today)
    ledgers = repo.ledger_repository(tx.events)
    keys = [ledger_id(p.partition_key(), today.year) for p, _ in registered]
    loaded = await ledgers.get_many(keys, for_update=True)
    opened = []
    for (profile, version), key in zip(registered, keys, strict=True):
        if key in loaded:
            continue
        ledger = loaded[key] = ledgers.new(key)
        ledger.open(
            member_id=profile.partition_key(),
            year=today.year,
            base_union=profile.base_union,
            policy=policy,
            source_event_id=f"profile-{profile.partition_key()}@{version}",
        )
        opened.append(ledgers.take(ledger))
    await ledgers.write(opened)


async def note_hardship(
    tx: Transaction, member_ids: list[str], on_register: bool, on: date, source_event_id: str
) -> None:
    """Hardship register changes: summer-camp eligibility follows them."""
    profiles = repo.profile_repository(tx.events)
    for member_id in sorted(set(member_ids)):
        profile = await profiles.get(member_id, for_update=True)
        if profile is None:
            log.warning("hardship event for an unknown member", extra={"member_id": member_id})
            continue
        profile.note_hardship(on_register, source_event_id, on)
        await profiles.save(profile)


async def record_union_finances(
    tx: Transaction,
    union: str,
    year: int,
    values: dict[str, int],
    actor: str,
    policy: PolicyVersion | None = None,
) -> UnionLedger:
    unions = union_ledgers(tx.events)
    ledger = await unions.get(union_ledger_id(union, year), for_update=True) or unions.new(
        union_ledger_id(union, year)
    )
    ledger.union, ledger.year = union, year
    multiples = [
        r.max_multiple_of_dues
        for r in (policy.union_rules.values() if policy else [])
        if r.max_multiple_of_dues is not None
    ]
    limit = values["dues_income_fen"] * (1 + multiples[0]) if multiples else None
    ledger.record_finances(
        UnionFinancesRecorded(
            union=union, year=year, recorded_by=actor, culture_sports_limit_fen=limit, **values
        )
    )
    await unions.save(ledger, metadata={"actor": actor})
    return ledger


async def spend_on_assistance(
    tx: Transaction,
    policy: PolicyVersion,
    *,
    union: str,
    purchase_id: str,
    amount_fen: int,
    on: date,
    purpose: str,
    actor: str,
    today: date,
) -> UnionLedger:
    """A union's consumption-assistance purchase (clause 8), against the share it reserved; the
    year it belongs to must still be open, as for any benefit."""
    closing = policy.books.closing_day(on.year)
    if today > closing:
        raise InvalidInput(
            f"{on.year} 年度账目已于 {closing} 关账，不再受理该年度的新采购"
            f"（the books of {on.year} closed on {closing}）",
            field="business_date",
            rule="period.closed",
        )
    floors = [(name, r) for name, r in policy.union_rules.items() if r.floor_of is not None]
    if not floors:
        raise InvalidInput(
            f"policy {policy.version} reserves no budget share for consumption assistance",
            field="business_date",
            rule="policy.no-rule",
        )
    unions = union_ledgers(tx.events)
    key = union_ledger_id(union, on.year)
    ledger = await unions.get(key, for_update=True) or unions.new(key)
    ledger.spend_on_assistance(
        ConsumptionAssistanceSpent(
            union=union,
            year=on.year,
            purchase_id=purchase_id,
            amount_fen=amount_fen,
            business_date=on,
            purpose=purpose,
            rule=floors[0][0],
            clause=floors[0][1].clause,
            recorded_by=actor,
        )
    )
    await unions.save(ledger, metadata={"actor": actor})
    return ledger


# --- reviews -----------------------------------------------------------------------------------


async def review_birth_spacing(
    ctx: EntitlementsContext,
    tx: Transaction,
    *,
    member_id: str,
    child_id: str,
    approved: bool,
    reason: str,
    actor: str,
    actor_org: str,
    reach: Callable[[str], bool],
) -> BirthSpacingReviewed:
    """A reviewer's finding on a birth the decision refused as too close to a sibling's,
    recorded on the ledger of the child's birth year, where its gift is counted."""
    await ctx.policies.refresh(tx.events)
    profile = await repo.profile_repository(tx.events).get(member_id)
    child = profile.children.get(child_id) if profile is not None else None
    if profile is None or child is None or not reach(profile.base_union):
        raise NotFound(f"no child {child_id} of member {member_id}")
    today = business_date(ctx.clock)
    policy = ctx.policies.in_force(today)
    rule = policy.rule_for(Benefit.CHILDBIRTH_GIFT)
    if rule is None or too_close(rule, profile.children.values(), child) is None:
        raise Conflict(
            "该子女的出生日期与其兄弟姐妹相隔正常，无需复核"
            "（the child's birth is not too close to a sibling's: nothing to review）",
            rule="spacing.not-in-question",
        )
    ledger = await open_ledger(tx.events, profile, child.birth_date.year, policy)
    review = ledger.review_spacing(
        BirthSpacingReviewed(
            member_id=member_id,
            child_id=child_id,
            approved=approved,
            reason=reason,
            reviewed_by=actor,
            reviewed_by_org=actor_org,
            reviewed_on=today,
        )
    )
    await repo.ledger_repository(tx.events).save(ledger)
    return review
