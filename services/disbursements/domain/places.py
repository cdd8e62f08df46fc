"""Place names as people type them: simplified or traditional characters, full-width letters,
spaces, English or pinyin. Every reader of the reference lists (the prohibited-area check, the
travel-expense standard of a city) compares names through `normalise`, so the same place is
the same name whoever wrote it."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

from opencc_purepy import OpenCC

# Generic words around a scenic area's own name: "五台山风景名胜区" names 五台山, and so does
# "山西省五台山". Longest first, stripped repeatedly.
_SUFFIXES = sorted(
    (
        "国家级风景名胜区",
        "风景名胜区",
        "名胜风景区",
        "核心景区",
        "旅游景区",
        "风景区",
        "旅游区",
        "景区",
        "国家森林公园",
        "森林公园",
        "国家地质公园",
        "国家公园",
        "scenicarea",
        "scenicspot",
        "nationalpark",
    ),
    key=len,
    reverse=True,
)
_PREFIXES = sorted(
    (
        "中国",
        "山西省",
        "山西",
        "china",
        "shanxi",
    ),
    key=len,
    reverse=True,
)


@functools.cache
def _to_simplified() -> OpenCC:
    return OpenCC("t2s")


@functools.lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """One spelling of a name: NFKC (full-width to half-width), simplified characters, no
    spaces or middle dots, lower case. Remembered: the lists' own names come back for every
    outing checked, and each is a dictionary conversion."""
    folded = unicodedata.normalize("NFKC", text)
    simplified = _to_simplified().convert(folded)
    return "".join(c for c in simplified if not c.isspace() and c not in "·・-_'’").lower()


def core_names(text: str, prefixes: Iterable[str] = ()) -> set[str]:
    """The name and the name without the generic words around it (a province before it, "风景
    名胜区" after it), each normalised: what a whole-name comparison compares."""
    name = normalise(text)
    found = {name}
    heads = sorted({*_PREFIXES, *(normalise(p) for p in prefixes)}, key=len, reverse=True)
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name, changed = name[: -len(suffix)], True
        for head in heads:
            if head and name.startswith(head) and len(name) > len(head):
                name, changed = name[len(head) :], True
        found.add(name)
    return found
