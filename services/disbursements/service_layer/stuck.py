"""A request nobody answered is asked again.

A disbursement still pending long after it was requested means its request, or the answer to
it, was lost on the way (a broker that came back empty, a consumer that skipped past it). The
request's outbox row is published again under its original id: entitlements decides it if it
never saw it, and ignores it if it did.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import text, update

from services.disbursements.adapters.tables import event_tables
from shared.eventstore.relay import mark_resend
from shared.runtime import Runtime

log = logging.getLogger(__name__)

# Only rows last published longer ago than the interval: a backlog downstream is asked at
# most once per interval, never flooded.
_STUCK = text(
    "published_at < now() - CAST(:after AS interval)"
    " AND headers->>'ce_type' = 'jinhui.disbursements.DisbursementRequested'"
    " AND payload->>'disbursement_id' IN ("
    "  SELECT disbursement_id FROM disbursements WHERE status = 'pending'"
    "  AND updated_at < now() - CAST(:after AS interval) LIMIT :limit)"
)


async def resend_stuck(runtime: Runtime, after_s: float, limit: int = 1000) -> int:
    query = update(event_tables.outbox).where(
        _STUCK.bindparams(after=timedelta(seconds=after_s), limit=limit)
    )
    async with runtime.sessions() as session, session.begin():
        count = await mark_resend(session, runtime.service, query)
    if count:
        log.warning("requests still unanswered; sent again", extra={"count": count})
        runtime.relay.wake()
    return count


async def keep_resending(runtime: Runtime, after_s: float) -> None:
    while True:
        await resend_stuck(runtime, after_s)
        await asyncio.sleep(after_s / 2)
