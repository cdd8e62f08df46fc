"""Money is integer fen. One yuan is 100 fen; no float ever touches an amount."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

Fen = Annotated[int, Field(ge=0, strict=True, description="Amount in fen (1 yuan = 100 fen)")]


def yuan(amount: int | str | Decimal) -> int:
    """Fen from a yuan amount written as a whole number or exact decimal string."""
    value = Decimal(str(amount)) * 100
    if value != value.to_integral_value():
        raise ValueError(f"{amount} yuan is not a whole number of fen")
    return int(value)


def format_yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}.{part:02d}"
