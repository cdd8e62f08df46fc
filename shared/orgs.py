"""Org paths in the union tree: `shanxi/taiyuan/xiaodian/bu-0001` (province / city or provincial
industrial union / county / base union). Light enough for any module, contracts included."""

from __future__ import annotations

import re

from shared.errors import InvalidInput

_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def parse_org(path: str) -> str:
    """Normalise an org path: lower case, slash separated, at most four levels."""
    parts = [p for p in path.strip().strip("/").lower().split("/") if p]
    if not parts or len(parts) > 4 or not all(_SEGMENT.match(p) for p in parts):
        raise InvalidInput(
            "an org path is 1 to 4 segments of a-z, 0-9 and '-', "
            "e.g. shanxi/taiyuan/xiaodian/bu-0001",
            field="org",
        )
    return "/".join(parts)


def org_contains(ancestor: str, org: str) -> bool:
    return org == ancestor or org.startswith(ancestor + "/")
