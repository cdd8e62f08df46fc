"""The body of every service's Alembic env.py: migrations always run on a connection handed in
by `shared.db.migrate`, never by opening their own."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData


def run_migrations(target_metadata: MetaData) -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `jinhui migrate` (shared.db.migrate)")
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
