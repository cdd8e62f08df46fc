"""A rebuild's bookkeeping without a database: what it applied (the last position and the gaps
below it, where a transaction that committed late may still put an event), and a page of
writes folded into the fewest rows that say the same."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Integer, MetaData, Table, select
from sqlalchemy.dialects import postgresql

from services.entitlements.adapters.projections import LIVE, _statements, fold, writes
from services.entitlements.domain.events import ProfileChanged, ProfileOpened
from services.entitlements.service_layer.replay import Applied

EVENTS = Table("events", MetaData(), Column("position", Integer))


def _sql(where: object) -> str:
    query = select(EVENTS).where(where)  # type: ignore[arg-type]
    return str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def test_positions_skipped_while_reading_are_looked_for_again_and_nothing_else() -> None:
    applied = Applied()
    applied.add([1, 2, 3, 6])  # 4 and 5 were not committed when the page was read
    applied.add([7, 9])
    assert (applied.last, applied.count, applied.gaps) == (9, 6, [(4, 5), (8, 8)])
    above, gaps = applied.missing(EVENTS.c.position)
    assert "events.position > 9" in _sql(above)
    assert "BETWEEN 4 AND 5" in _sql(gaps) and "BETWEEN 8 AND 8" in _sql(gaps)
    many = Applied()
    many.add(list(range(1, 3000, 2)))  # a gap at every even position
    assert len(many.missing(EVENTS.c.position, per_query=500)) == 1 + 3  # 1,499 gaps


def _opened(member: str) -> ProfileOpened:
    return ProfileOpened.model_validate(
        {
            "member_id": member,
            "base_union": "shanxi/taiyuan/xiaodian/bu-0001",
            "join_date": date(2015, 7, 1),
            "birth_date": date(1990, 3, 7),
            "employment_form": "standard",
            "migrant_worker": False,
            "ethnic_minority": False,
            "martyr_family": False,
            "source_event_id": "e-1",
        }
    )


def test_a_page_is_folded_into_one_row_per_key_in_the_order_that_keeps_its_meaning() -> None:
    balance = _statements(LIVE)["balance"]
    row = {"member_id": "m-1", "year": 2026, "benefit": "holiday_gift"}
    planned = [
        *writes(_opened("m-1")),
        (balance, {**row, "used_fen": 0, "reserved_fen": 500, "count": 1}),
        *writes(ProfileChanged(member_id="m-1", active=False, source_event_id="e-2")),
        (balance, {**row, "used_fen": 500, "reserved_fen": -500, "count": 0}),
        *writes(ProfileChanged(member_id="m-1", active=True, source_event_id="e-3")),
    ]
    page = fold(planned, LIVE)
    # one insert, one update, one balance (merged after the inserts: `bulk.Staging._merges`)
    assert (len(page.opened), len(page.changes), len(page.balances)) == (1, 1, 1)
    assert page.opened[0]["member_id"] == "m-1"  # the profile is opened
    assert page.changes == {"m-1": {"active": True}}  # the last change of the page wins
    assert list(page.balances.values()) == [{**row, "used_fen": 500, "reserved_fen": 0, "count": 1}]
