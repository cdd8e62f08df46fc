"""The org tree's rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.members.adapters.tables import org_units
from services.members.domain.org import OrgKind, OrgUnit, check_tree
from shared.db.sql import in_subtree, rows_affected
from shared.errors import InvalidInput, NotFound


def read_tree_file(path: Path) -> list[OrgUnit]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [OrgUnit.model_validate(u) for u in data.get("units", [])]


async def stored_kinds(session: AsyncSession) -> dict[str, OrgKind]:
    rows = await session.execute(select(org_units.c.path, org_units.c.kind))
    return {path: OrgKind(kind) for path, kind in rows}


async def save_units(
    session: AsyncSession, units: Sequence[OrgUnit], *, overwrite: bool = True
) -> int:
    """Check the units against the stored tree and upsert them; returns how many were written."""
    check_tree(units, await stored_kinds(session))
    if not units:
        return 0
    rows = [{"path": u.path, "name": u.name, "kind": u.kind.value} for u in units]
    statement = pg_insert(org_units).values(rows)
    statement = (
        statement.on_conflict_do_update(
            index_elements=[org_units.c.path],
            set_={"name": statement.excluded.name, "updated_at": statement.excluded.updated_at},
        )
        if overwrite
        else statement.on_conflict_do_nothing()
    )
    result = await session.execute(statement)
    return rows_affected(result)


async def subtree(session: AsyncSession, root: str) -> list[OrgUnit]:
    rows = await session.execute(
        select(org_units.c.path, org_units.c.name, org_units.c.kind)
        .where(in_subtree(org_units.c.path, root))
        .order_by(org_units.c.path)
    )
    return [OrgUnit(path=p, name=n, kind=OrgKind(k)) for p, n, k in rows]


async def require_base_union(session: AsyncSession, path: str, field: str = "base_union") -> None:
    kind = await session.scalar(select(org_units.c.kind).where(org_units.c.path == path))
    if kind is None:
        raise NotFound(f"no union {path} in the org tree", field=field)
    if kind != OrgKind.BASE:
        raise InvalidInput(
            f"{path} is a {kind} union; members belong to base unions", field=field, rule="org.base"
        )
