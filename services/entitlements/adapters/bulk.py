"""A rebuild's pages written with COPY: each folded page goes into staging tables of the build
(unlogged, no keys), and one statement per table merges them into the fresh read tables with
the same rules as the live writes — a profile or child inserted once, the first of a key
winning; a profile's changed columns set; a balance's changes added. Row by row through
SQLAlchemy, about a third of a rebuild's CPU went to binding parameters."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Table

from services.entitlements.adapters.projections import (
    BALANCE_CHANGES,
    FoldedPage,
    ProjectionTables,
)
from shared.db.sql import column_list


@dataclass(frozen=True)
class Staging:
    """A build's staging tables, beside its fresh read tables."""

    fresh: ProjectionTables
    opened: Table
    children: Table
    changes: Table
    balances: Table

    @property
    def all(self) -> tuple[Table, Table, Table, Table]:
        return (self.opened, self.children, self.changes, self.balances)

    async def write(self, conn: Any, page: FoldedPage) -> None:
        """`conn`: an asyncpg connection; the page is written in one transaction of its own."""
        changed = [c.name for c in self.changes.columns]
        changes = [{"member_id": m, **values} for m, values in page.changes.items()]
        staged = (
            (self.opened, _in_order(self.opened, page.opened)),
            (self.children, _in_order(self.children, page.children)),
            (self.changes, [tuple(map(row.get, changed)) for row in changes]),
            (self.balances, list(map(_getter(self.balances), page.balances.values()))),
        )
        async with conn.transaction():
            for table, records in staged:
                if records:
                    names = [c.name for c in table.columns]
                    await conn.copy_records_to_table(table.name, records=records, columns=names)
            for statement in self._merges:
                await conn.execute(statement)
            await conn.execute(f"TRUNCATE {', '.join(_q(t.name) for t in self.all)}")

    @cached_property
    def _merges(self) -> list[str]:
        profiles, children, balances = (t.name for t in self.fresh.all)
        opened = [c.name for c in self.opened.columns if c.name != "ord"]
        noted = [c.name for c in self.children.columns if c.name != "ord"]
        changed = [c.name for c in self.changes.columns if c.name != "member_id"]
        summed = [c.name for c in self.balances.columns]
        return [
            f"INSERT INTO {_q(profiles)} ({column_list(opened)}) SELECT {column_list(opened)} "
            f"FROM {_q(self.opened.name)} ORDER BY ord ON CONFLICT (member_id) DO NOTHING",
            f"INSERT INTO {_q(children)} ({column_list(noted)}) SELECT {column_list(noted)} "
            f"FROM {_q(self.children.name)} ORDER BY ord "
            "ON CONFLICT (member_id, child_id) DO NOTHING",
            f"UPDATE {_q(profiles)} AS p SET "
            + ", ".join(f'"{c}" = coalesce(s."{c}", p."{c}")' for c in changed)
            + f" FROM {_q(self.changes.name)} AS s WHERE p.member_id = s.member_id",
            f"INSERT INTO {_q(balances)} ({column_list(summed)}) SELECT {column_list(summed)} "
            f"FROM {_q(self.balances.name)} ON CONFLICT (member_id, year, benefit) DO UPDATE SET "
            + ", ".join(f'"{c}" = {_q(balances)}."{c}" + excluded."{c}"' for c in BALANCE_CHANGES),
        ]


def staging_tables(metadata: MetaData, fresh: ProjectionTables, suffix: str) -> Staging:
    """Columns as the fresh tables', all nullable (a change names only what changed), with an
    `ord` where the first of a key must win."""

    def like(name: str, source: Table, *, skip: Sequence[str] = (), ord: bool = False) -> Table:
        columns = [
            Column(c.name, c.type, nullable=True) for c in source.columns if c.name not in skip
        ]
        if ord:
            columns.append(Column("ord", Integer, nullable=False))
        return Table(f"{name}{suffix}", metadata, *columns, prefixes=["UNLOGGED"])

    profiles, children, balances = fresh.all
    return Staging(
        fresh,
        opened=like("stage_opened", profiles, skip=["last_recuperation_year"], ord=True),
        children=like("stage_children", children, ord=True),
        changes=like("stage_changes", profiles),
        balances=like("stage_balances", balances),
    )


def _getter(table: Table, skip: str = "") -> Callable[[dict[str, object]], tuple[object, ...]]:
    """A row's values in the table's column order, for rows that name every column."""
    names = [c.name for c in table.columns if c.name != skip]
    get = operator.itemgetter(*names)
    return lambda row: tuple(get(row))


def _in_order(table: Table, rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
    """Rows with their place in the page (`ord`, the last column), where the first of a key wins."""
    get = _getter(table, skip="ord")
    return [(*get(row), i) for i, row in enumerate(rows)]


def _q(name: str) -> str:
    return f'"{name}"'
