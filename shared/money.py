"""Money is integer fen. One yuan is 100 fen; no float ever touches an amount."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

# The largest amount one benefit or one union figure may carry: 10 billion yuan. Every column
# that holds fen is 64-bit, so a sum of many such amounts still fits.
MAX_AMOUNT_FEN = 1_000_000_000_000
# A union's yearly figures (dues income, budget) may be larger than one benefit.
MAX_UNION_FIGURE_FEN = 100_000_000_000_000

Fen = Annotated[int, Field(ge=0, strict=True, description="Amount in fen (1 yuan = 100 fen)")]
Amount = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_AMOUNT_FEN,
        strict=True,
        description=f"Amount in fen (1 yuan = 100 fen), from 1 to {MAX_AMOUNT_FEN}",
        examples=[30000],
    ),
]
UnionFigure = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_UNION_FIGURE_FEN,
        strict=True,
        description=f"Fen, from 0 to {MAX_UNION_FIGURE_FEN}",
        examples=[1_000_000],
    ),
]


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


def yuan_text(fen: int) -> str:
    """An amount as a person reads it: `2,200.00 元`."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{part:02d} 元"


def yuan_en(fen: int) -> str:
    """An amount as an English reader reads it: `2,200.00 yuan`."""
    return yuan_text(fen).replace(" 元", " yuan")
