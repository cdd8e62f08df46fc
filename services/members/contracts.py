"""What the member registry publishes for other services: rules about members that others
must apply exactly as the registry does."""

from __future__ import annotations

from datetime import date


def birthday_in(birth_date: date, year: int) -> date:
    """The day a member's birthday is kept in `year`: 29 February → 28 February in common years."""
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 2, 28)
