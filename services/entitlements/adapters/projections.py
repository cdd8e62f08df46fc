"""Read tables derived from entitlements' own events: member profiles, their children, and the
balance of every ledger line. Kept in step in the transaction that appends the event; rebuilt
from the event store by `jinhui replay entitlements` (see `service_layer/replay.py`).

Lists (eligibility, finance views) read these; a single ledger is read by folding its stream,
which also answers `as_of`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Update,
    bindparam,
    update,
)
from sqlalchemy.sql.elements import TextClause

from services.entitlements.contracts import (
    EntitlementReserved,
    ReservationCommitted,
    ReservationReleased,
    ReservationReversed,
)
from services.entitlements.domain.events import ChildNoted, ProfileChanged, ProfileOpened
from services.entitlements.domain.ledger import balance_change
from shared.db.sql import Write, insert_on_conflict
from shared.events import DomainEvent


@dataclass(frozen=True)
class ProjectionTables:
    profiles: Table
    children: Table
    balances: Table

    @property
    def all(self) -> tuple[Table, Table, Table]:
        return (self.profiles, self.children, self.balances)


def projection_tables(metadata: MetaData, suffix: str = "") -> ProjectionTables:
    """The tables, named `<name><suffix>`: the live ones, or a rebuild's."""
    profiles = Table(
        f"member_profiles{suffix}",
        metadata,
        Column("member_id", String(40), primary_key=True),
        Column("base_union", String(200), nullable=False),
        Column("employment_form", String(40), nullable=False),
        Column("migrant_worker", Boolean, nullable=False),
        Column("ethnic_minority", Boolean, nullable=False),
        Column("martyr_family", Boolean, nullable=False),
        Column("in_hardship", Boolean, nullable=False),
        Column("active", Boolean, nullable=False),
        Column("last_recuperation_year", Integer),
        Index(f"ix_member_profiles_union{suffix}", "base_union"),
    )
    children = Table(
        f"profile_children{suffix}",
        metadata,
        Column("member_id", String(40), primary_key=True),
        Column("child_id", String(40), primary_key=True),
        Column("birth_date", Date, nullable=False),
        Column("birth_order", SmallInteger, nullable=False),
        Column("within_policy", Boolean, nullable=False),
    )
    balances = Table(
        f"ledger_balances{suffix}",
        metadata,
        Column("member_id", String(40), primary_key=True),
        Column("year", Integer, primary_key=True),
        Column("benefit", String(40), primary_key=True),
        Column("used_fen", BigInteger, nullable=False),
        Column("reserved_fen", BigInteger, nullable=False),
        Column("count", Integer, nullable=False),
    )
    return ProjectionTables(profiles, children, balances)


projection_metadata = MetaData()
LIVE = projection_tables(projection_metadata)


@functools.cache
def _statements(t: ProjectionTables) -> dict[str, TextClause]:
    b = t.balances.name
    return {
        "profile": insert_on_conflict(
            t.profiles,
            ["member_id", *_PROFILE_FIELDS],
            ["member_id"],
        ),
        "child": insert_on_conflict(
            t.children,
            ["member_id", "child_id", "birth_date", "birth_order", "within_policy"],
            ["member_id", "child_id"],
        ),
        "balance": insert_on_conflict(
            t.balances,
            ["member_id", "year", "benefit", "used_fen", "reserved_fen", "count"],
            ["member_id", "year", "benefit"],
            update={c: f'"{b}"."{c}" + excluded."{c}"' for c in BALANCE_CHANGES},
        ),
    }


BALANCE_CHANGES = ("used_fen", "reserved_fen", "count")
_PROFILE_FIELDS = (
    "base_union",
    "employment_form",
    "migrant_worker",
    "ethnic_minority",
    "martyr_family",
    "active",
    "in_hardship",
)


def live_writes(events: Sequence[DomainEvent]) -> list[Write]:
    return [w for event in events for w in writes(event, LIVE)]


def writes(event: DomainEvent, t: ProjectionTables = LIVE) -> list[Write]:
    """What `event` changes in the read tables `t`."""
    match event:
        case ProfileOpened():
            row = {f: getattr(event, f) for f in _PROFILE_FIELDS[:-2]}
            return [
                (
                    _statements(t)["profile"],
                    {"member_id": event.member_id, "active": True, "in_hardship": False, **row},
                )
            ]
        case ProfileChanged():
            values = {
                f: getattr(event, f) for f in _PROFILE_FIELDS if getattr(event, f) is not None
            }
            return [_profile_update(t, values, event.member_id)] if values else []
        case ChildNoted():
            row = {
                "member_id": event.member_id,
                "child_id": event.child_id,
                "birth_date": event.birth_date,
                "birth_order": event.birth_order,
                "within_policy": event.within_policy,
            }
            return [(_statements(t)["child"], row)]
        case EntitlementReserved() | ReservationReleased() | ReservationReversed():
            return [_balance(t, event)]
        case ReservationCommitted():
            done = [_balance(t, event)]
            if event.benefit == "recuperation":
                year: dict[str, object] = {"last_recuperation_year": event.year}
                done.append(_profile_update(t, year, event.member_id))
            return done
    return []


def _profile_update(t: ProjectionTables, values: dict[str, object], member_id: str) -> Write:
    statement = _profile_update_statement(t, tuple(values))
    return statement, {"m": member_id, **{f"v_{k}": v for k, v in values.items()}}


@functools.cache
def _profile_update_statement(t: ProjectionTables, columns: tuple[str, ...]) -> Update:
    return (
        update(t.profiles)
        .where(t.profiles.c.member_id == bindparam("m"))
        .values({c: bindparam(f"v_{c}") for c in columns})
    )


def _balance(
    t: ProjectionTables,
    event: EntitlementReserved | ReservationCommitted | ReservationReleased | ReservationReversed,
) -> Write:
    change = balance_change(event)
    assert change is not None
    row = {
        "member_id": event.member_id,
        "year": event.year,
        "benefit": event.benefit,
        "used_fen": change.used_fen,
        "reserved_fen": change.reserved_fen,
        "count": change.count,
    }
    return _statements(t)["balance"], row


@dataclass
class FoldedPage:
    """A page of planned writes as the fewest rows that say the same: profiles opened and
    children noted in their order (the first of a key wins, as the inserts' `DO NOTHING`
    says), a profile's changes merged per member (the last change of a column wins), a
    balance's changes summed per (member, year, benefit)."""

    opened: list[dict[str, object]] = field(default_factory=list)
    children: list[dict[str, object]] = field(default_factory=list)
    changes: dict[str, dict[str, object]] = field(default_factory=dict)
    balances: dict[tuple[object, ...], dict[str, object]] = field(default_factory=dict)


def fold(planned: Sequence[Write], t: ProjectionTables) -> FoldedPage:
    """For a rebuild, which replays a stream in position order, where a profile is always
    opened before it is changed: so a page's inserts go first, then its changes."""
    statements = _statements(t)
    page = FoldedPage()
    for statement, parameters in planned:
        if statement is statements["balance"]:
            key = (parameters["member_id"], parameters["year"], parameters["benefit"])
            held = page.balances.get(key)
            if held is None:
                page.balances[key] = dict(parameters)
            else:
                for column in BALANCE_CHANGES:
                    held[column] = int(held[column]) + int(parameters[column])  # type: ignore[call-overload]
        elif isinstance(statement, Update):
            merged = page.changes.setdefault(str(parameters["m"]), {})
            merged.update({k[2:]: v for k, v in parameters.items() if k.startswith("v_")})
        elif statement is statements["profile"]:
            page.opened.append(parameters)
        else:
            page.children.append(parameters)
    return page
