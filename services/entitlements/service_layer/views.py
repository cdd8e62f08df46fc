"""Reading ledgers and profiles as they stood: `as_of` is a business date (Asia/Shanghai), so a
ledger "as of" a day holds every entry dated on or before it, whenever it was recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import text

from services.entitlements.adapters import repository as repo
from services.entitlements.adapters.projections import LIVE
from services.entitlements.contracts import Benefit
from services.entitlements.domain.ledger import MemberLedger, ledger_id
from services.entitlements.domain.profile import MemberProfile
from services.entitlements.domain.union_ledger import UnionLedger, union_ledger_id
from services.entitlements.service_layer.context import EntitlementsContext
from shared.aggregate import Repository
from shared.clock import SHANGHAI, business_date
from shared.eventstore.store import EventStore, StoredEvent, Streams


def union_ledgers(store: Streams) -> Repository[UnionLedger]:
    return Repository(store, UnionLedger, "unionledger")


def dated_on_or_before(stored: StoredEvent, day: date | None) -> bool:
    """Whether an entry belongs to the ledger as of the end of `day` (by its business date;
    an entry without one, such as the opening, always does)."""
    if day is None:
        return True
    entry_date = getattr(stored.event, "business_date", None)
    return entry_date is None or entry_date <= day


async def read_profile(store: EventStore, member_id: str) -> MemberProfile | None:
    return await repo.profile_repository(store).get(member_id)


async def ledger_entries(
    store: EventStore, member_id: str, year: int, as_of: date | None = None
) -> list[StoredEvent]:
    stored = await store.load(f"ledger-{ledger_id(member_id, year)}")
    return [s for s in stored if dated_on_or_before(s, as_of)]


async def read_ledger(
    store: EventStore, member_id: str, year: int, as_of: date | None = None
) -> MemberLedger | None:
    stored = await ledger_entries(store, member_id, year, as_of)
    if not stored:
        return None
    ledger = repo.ledger_repository(store).new(ledger_id(member_id, year))
    ledger.replay(s.event for s in stored)
    return ledger


async def read_union_ledger(
    store: EventStore, union: str, year: int, as_of: date | None = None
) -> UnionLedger | None:
    stored = await store.load(union_ledgers(store).stream_id(union_ledger_id(union, year)))
    kept = [s for s in stored if _union_entry_on_or_before(s, as_of)]
    if not kept:
        return None
    ledger = UnionLedger(union_ledgers(store).stream_id(union_ledger_id(union, year)))
    ledger.replay(s.event for s in kept)
    return ledger


def _union_entry_on_or_before(stored: StoredEvent, day: date | None) -> bool:
    """By the entry's business date; finances, which have none, by the day they were recorded."""
    if day is None:
        return True
    entry_date = getattr(stored.event, "business_date", None)
    return (entry_date or stored.recorded_at.astimezone(SHANGHAI).date()) <= day


async def ledger_as_read(
    ctx: EntitlementsContext,
    store: EventStore,
    member_id: str,
    year: int,
    as_of: date | None = None,
) -> tuple[MemberProfile, MemberLedger] | None:
    """The member's profile and ledger for `year` as of the end of `as_of` (a business date)
    or now; a year with no entries yet reads as an untouched ledger under the policy in force
    at its start (or on the day read, if later)."""
    profile = await read_profile(store, member_id)
    if profile is None:
        return None
    ledger = await read_ledger(store, member_id, year, as_of)
    if ledger is None:
        read_on = as_of or business_date(ctx.clock)
        day = max(date(year, 1, 1), min(read_on, date(year, 12, 31)))
        try:
            policy = ctx.policies.in_force(day)
        except LookupError:
            return None
        ledger = repo.ledger_repository(store).new(ledger_id(member_id, year))
        ledger.open(
            member_id=member_id,
            year=year,
            base_union=profile.base_union,
            policy=policy,
            source_event_id="-",
        )
    return profile, ledger


@dataclass(frozen=True)
class LedgerNow:
    """A ledger as it stands, from the read tables the saving transactions keep."""

    base_union: str
    lines: dict[str, tuple[int, int, int]]
    child_grants: dict[str, str] = field(default_factory=dict)

    def line(self, benefit: str) -> tuple[int, int, int]:
        return self.lines.get(benefit, (0, 0, 0))


_NOW = text(
    f"SELECT p.base_union, b.year, b.benefit, b.used_fen, b.reserved_fen, b.count "
    f"FROM {LIVE.profiles.name} p LEFT JOIN {LIVE.balances.name} b "
    "ON b.member_id = p.member_id AND b.year = ANY(:years) WHERE p.member_id = :member_id"
)


async def ledgers_now(
    store: EventStore, member_id: str, years: Sequence[int]
) -> dict[int, LedgerNow] | None:
    """A member's ledgers for `years` in one statement, from the read tables the saving
    transactions keep: the hot read of dashboards (a once-a-cycle benefit is read in its
    cycle's first year, so a view needs two years). None for a member not known. The stream is
    read only for a childbirth gift's grants, which the tables do not hold."""
    found = await store.session.execute(_NOW, {"member_id": member_id, "years": list(years)})
    rows = found.tuples().all()
    if not rows:
        return None
    base_union = str(rows[0][0])
    lines: dict[int, dict[str, tuple[int, int, int]]] = {year: {} for year in years}
    for _, year, benefit, used, reserved, count in rows:
        if benefit is not None:
            lines[int(year)][benefit] = (int(used), int(reserved), int(count))
    ledgers = {year: LedgerNow(base_union, held) for year, held in lines.items()}
    for year, now in ledgers.items():
        if now.line(Benefit.CHILDBIRTH_GIFT)[2]:
            ledger = await read_ledger(store, member_id, year)
            ledgers[year] = replace(now, child_grants=dict(ledger.child_grants) if ledger else {})
    return ledgers
