"""Time as the business sees it.

Benefits are counted per calendar year in Shanxi, so a business date is always an
Asia/Shanghai date, whatever the server's zone. The clock is injected everywhere so a test
(or the demo) can live through a year in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Protocol
from zoneinfo import ZoneInfo

from pydantic import Field

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that only moves when told to: for tests and simulated years."""

    current: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta

    def set_business_date(self, day: date, hour: int = 9) -> None:
        self.current = datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(UTC)


def business_date(clock: Clock) -> date:
    return clock.now().astimezone(SHANGHAI).date()


def end_of_business_day(day: date) -> datetime:
    """The last instant of a Shanghai date, as UTC: what an `as_of` read means."""
    nxt = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(days=1)
    return (nxt - timedelta(microseconds=1)).astimezone(UTC)


# Dates people type: a union's records start after 1900 and no plan reaches past 2100. Outside
# that a date is a typo (3515 for 2015), refused at the edge.
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2100, 12, 31)
PlausibleDate = Annotated[
    date,
    Field(ge=EARLIEST_DATE, le=LATEST_DATE, description="A date from 1900-01-01 to 2100-12-31"),
]
