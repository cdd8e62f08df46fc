"""The retry policy around one message's transaction.

Broker and database outages are retried with back-off for as long as they last: nothing is
dropped and the service does not crash. A lost race (a concurrency conflict, a deadlock or
serialization victim) runs again. A handler bug is retried a few times, then dead-lettered
with the exception's type, never its message, which might carry personal data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from shared.backoff import Backoff
from shared.db.errors import is_transient
from shared.errors import ConcurrencyConflict
from shared.kafka.consumer.dead_letters import DeadLetters
from shared.kafka.consumer.messages import Middleware, Rejected, Step, Work
from shared.outages import is_outage
from shared.supervisor import Health
from shared.telemetry.metrics import CONSUMER_RETRIES

log = logging.getLogger(__name__)


def retrying(
    group_id: str,
    dead_letters: DeadLetters,
    health: Health,
    max_attempts: int,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Middleware:
    def middleware(step: Step) -> Step:
        async def run(work: Work) -> str:
            backoff = Backoff(initial_s=0.05)
            failures = 0
            while True:
                try:
                    outcome = await step(work)
                    health.ok()
                    return outcome
                except Rejected as exc:
                    await dead_letters.send(work.record, "rejected", exc.reason)
                    return "dead_lettered"
                except Exception as exc:
                    error = "concurrency" if isinstance(exc, ConcurrencyConflict) else None
                    CONSUMER_RETRIES.labels(group_id, error or type(exc).__name__).inc()
                    if error or is_transient(exc):
                        pass  # a lost race: run it again
                    elif is_outage(exc):  # not the message's fault: wait, never count it
                        health.failing(exc)
                    else:
                        failures += 1
                        log.exception(
                            "handler failed",
                            extra={"group": group_id, "event_type": work.message.envelope.type},
                        )
                        if failures >= max_attempts:
                            detail = f"{type(exc).__name__} after {failures} attempts"
                            await dead_letters.send(work.record, "handler-failed", detail)
                            return "dead_lettered"
                await sleep(backoff.next_delay())

        return run

    return middleware
