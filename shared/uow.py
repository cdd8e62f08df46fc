"""Unit of work: one database transaction around a command, its events and their outbox rows."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from shared.eventstore.store import EventStore
from shared.runtime import Runtime


class UnitOfWork:
    session: AsyncSession
    events: EventStore

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._runtime.sessions()
        await self.session.begin()
        self.events = self._runtime.event_store(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                await self.session.commit()
                self._runtime.relay.wake()
            else:
                await self.session.rollback()
        finally:
            await self.session.close()


class Transaction(Protocol):
    """An open transaction and the event store in it: a `UnitOfWork` inside its `async with`,
    or a consumer's `HandlerContext`. Command handlers take this, so the API and the Kafka
    consumers run the same code."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def events(self) -> EventStore: ...
