"""Every long-running task of a service runs under one supervisor.

A task that ends or raises is restarted after a back-off; each failure is logged once, with
its cause's type. A task may also say it is failing while it waits an outage out (the relay
with the database down) and that it is well again. `/readyz` turns red when a task has been
failing for longer than `unhealthy_after_s`, and a gauge per task tells the same to Prometheus.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from opentelemetry.instrumentation.utils import suppress_instrumentation

from shared.backoff import Backoff
from shared.outages import is_outage
from shared.tasks import stop
from shared.telemetry.metrics import TASK_RESTARTS, TASK_UP

log = logging.getLogger(__name__)
_CRASHED = "crashed and restarting"


@dataclass
class Health:
    """One task's state, as it and its supervisor report it."""

    service: str
    task: str
    failing_since: float | None = None
    error: str | None = None

    def failing(self, exc: BaseException) -> None:
        """The task cannot do its work right now (it goes on trying)."""
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            log.warning(
                "background task failing: %s (%s)",
                self.task,
                type(exc).__name__,
                extra={
                    "task": self.task,
                    "error": type(exc).__name__,
                    "outage": is_outage(exc),
                },
            )
        self.error = type(exc).__name__
        TASK_UP.labels(self.service, self.task).set(0)

    def ok(self) -> None:
        if self.failing_since is not None:
            log.info(
                "background task recovered",
                extra={"task": self.task, "after_s": round(time.monotonic() - self.failing_since)},
            )
        self.failing_since, self.error = None, None
        TASK_UP.labels(self.service, self.task).set(1)

    def problem(self, unhealthy_after_s: float) -> str | None:
        if self.failing_since is None:
            return None
        failing_for = time.monotonic() - self.failing_since
        if failing_for < unhealthy_after_s:
            return None
        return f"failing for {failing_for:.0f} s ({self.error})"


class Supervisor:
    def __init__(
        self, service: str, unhealthy_after_s: float = 30.0, settle_s: float = 10.0
    ) -> None:
        self.service = service
        self.unhealthy_after_s = unhealthy_after_s
        self.settle_s = settle_s
        self.stop_grace_s = 10.0
        self.health: dict[str, Health] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def handle(self, name: str) -> Health:
        health = self.health.setdefault(name, Health(self.service, name))
        TASK_UP.labels(self.service, name).set(1)
        return health

    def start(
        self,
        name: str,
        work: Callable[[], Awaitable[object]],
        *,
        once: bool = False,
        traced: bool = True,
    ) -> asyncio.Task[None]:
        """Run `work` for ever, restarting it whenever it ends or fails; with `once`, until it
        has ended without an error (connecting at start-up). A task that is not `traced` (a
        poller, a sweeper) makes no spans of its own statements: a trace is a request or a
        message, not a timer's look at an empty table."""
        if not traced:
            work = _quietly(work)
        task = asyncio.create_task(self._supervise(name, work, once), name=name)
        self._tasks.append(task)
        return task

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        return list(self._tasks)

    def forget(self) -> None:
        self._tasks.clear()

    async def _supervise(
        self, name: str, work: Callable[[], Awaitable[object]], once: bool
    ) -> None:
        health = self.handle(name)
        backoff = Backoff(initial_s=0.2, maximum_s=30.0)
        while True:
            run = asyncio.ensure_future(work())
            try:
                done, _ = await asyncio.wait({run}, timeout=self.settle_s)
                if not done:
                    backoff.reset()
                    if health.error == _CRASHED:
                        health.ok()  # it has run a while since its restart: well again
                await run
                if once:
                    health.ok()
                    return
                error: BaseException = RuntimeError("the task returned")
            except asyncio.CancelledError:
                await stop(run, self.stop_grace_s)
                raise
            except Exception as exc:
                error = exc
            self._crashed(health, error)
            await asyncio.sleep(backoff.next_delay())

    def _crashed(self, health: Health, error: BaseException) -> None:
        health.failing(error)
        health.error = _CRASHED
        if not is_outage(error):
            log.error(
                "background task crashed; restarting",
                exc_info=(type(error), error, error.__traceback__),
                extra={"task": health.task, "error": type(error).__name__},
            )
        TASK_RESTARTS.labels(self.service, health.task, type(error).__name__).inc()

    def problems(self) -> dict[str, str]:
        found = {}
        for name, health in self.health.items():
            problem = health.problem(self.unhealthy_after_s)
            if problem is not None:
                found[name] = problem
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                found[task.get_name()] = "stopped"
        return found


def _quietly(work: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
    async def run() -> object:
        with suppress_instrumentation():
            return await work()

    return run
