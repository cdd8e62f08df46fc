"""Alembic, driven from code: each service keeps its revisions in `adapters/migrations`.

Called by `jinhui up`, `jinhui migrate`, the Kubernetes migration Job and the test fixtures, on
an async connection (Alembic's connection-sharing recipe), so it works inside a running loop.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db.engine import create_engine, ensure_database


def alembic_config(service: str) -> Config:
    location = resources.files(f"services.{service}.adapters") / "migrations"
    config = Config()
    config.set_main_option("script_location", str(location))
    return config


async def upgrade(service: str, engine: AsyncEngine, revision: str = "head") -> None:
    """Any number of replicas may start at once: each takes the database's migration lock for
    its transaction, so one migrates and the others then find nothing left to do."""
    config = alembic_config(service)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"),
            {"name": f"jinhui-migrate:{service}"},
        )
        await conn.run_sync(run)


async def migrate_database(service: str, url: str) -> None:
    """Create the service's database if needed and bring it to the newest revision."""
    await ensure_database(url)
    engine = create_engine(url, pool_size=1)
    try:
        await upgrade(service, engine)
    finally:
        await engine.dispose()
