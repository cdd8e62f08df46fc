"""LISTEN/NOTIFY wake-ups on the real PostgreSQL: a committed notice wakes a waiter, a rolled
back one does not, and the listener comes back after its connection is killed."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text

from shared.db.notices import Notices, notify
from shared.tasks import stop
from tests.integration.conftest import Infra
from tests.support import eventually


async def test_a_committed_notice_wakes_waiters_and_a_rolled_back_one_does_not(
    infra: Infra,
) -> None:
    channel = f"test_{uuid.uuid4().hex[:8]}"
    notices = Notices(infra.engine.url.render_as_string(hide_password=False), channel, "test")
    listening = asyncio.create_task(notices.run())
    try:
        await eventually(lambda: _listening(notices))
        with notices.watching("d-1") as one, notices.watching("d-2") as other:
            async with infra.sessions() as session:
                async with session.begin():
                    await notify(session, channel, ["d-1"])
                    await session.rollback()
                await asyncio.sleep(0.5)  # a notice would have arrived by now
                assert not one.is_set()
                async with session.begin():
                    await notify(session, channel, ["d-1", "d-3"])
            await asyncio.wait_for(one.wait(), 60)
            assert not other.is_set()  # a notice wakes only those waiting on its keys
            async with infra.sessions() as session, session.begin():
                # Many keys travel in several notices, each under PostgreSQL's payload limit.
                await notify(session, channel, [f"b-{n:020d}" for n in range(1000)] + ["d-2"])
            await asyncio.wait_for(other.wait(), 60)

        # The listening connection killed (a database restart, a failover): it listens again.
        async with infra.sessions() as session, session.begin():
            await session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN%' AND query LIKE :channel"
                ),
                {"channel": f"%{channel}%"},
            )
        await eventually(lambda: _listening(notices, again=True))
        with notices.watching("d-4") as notice:
            async with infra.sessions() as session, session.begin():
                await notify(session, channel, ["d-4"])
            await asyncio.wait_for(notice.wait(), 60)
    finally:
        assert await stop(listening, 60)


async def _listening(notices: Notices, again: bool = False) -> bool:
    return notices.listens >= (2 if again else 1)
