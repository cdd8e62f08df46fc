"""A hardship file's history as people read it: each step in Chinese, and in English for a
caller who prefers it (`Accept-Language`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class HistoryLine:
    """One step of a file, as a caseworker reads it (Chinese) and in English."""

    on: date
    zh: str
    en: str


SOURCES_ZH = {
    "survey": "走访摸底",
    "walk_in": "来访",
    "referral": "转介",
    "life_event": "会员生活事件",
    "emergency": "应急帮扶",
}
LEVELS_ZH = {"deep": "深度困难", "relative": "相对困难", "accident": "意外致困"}


def level_zh(level: object) -> str:
    value = str(getattr(level, "value", level))
    return LEVELS_ZH.get(value, value)
