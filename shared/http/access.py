"""Who may call an operation, as each service's `entrypoints/access.py` declares beside its
routes; the authorization-matrix test holds every route to it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from fastapi import Request

from shared.auth import PrincipalDep, Role
from shared.errors import Forbidden

# resource: a member, file, disbursement or batch named in the path: outside the caller's
#   part of the org tree it does not exist (404).
# org: an org path in the path or body: outside the tree, refused (403 or 404).
# caller: answers only within the caller's part of the tree (lists, searches).
# province: only for callers at the root of the tree (the provincial federation).
Scope = Literal["resource", "org", "caller", "province"]
ANYONE: frozenset[Role] = frozenset(Role)
_CONVERTER = re.compile(r"{(\w+):\w+}")


@dataclass(frozen=True)
class Access:
    roles: frozenset[Role]
    scope: Scope

    def allows(self, role: Role) -> bool:
        return role in self.roles


def roles(*allowed: Role) -> frozenset[Role]:
    return frozenset(allowed)


def operation_key(method: str, path: str) -> str:
    """`GET /v1/unions/{org}/ledgers/{year}`: as the OpenAPI document names an operation."""
    return method.upper() + " " + _CONVERTER.sub(r"{\1}", path)


def enforce(table: Mapping[str, Access]) -> Callable[..., Awaitable[None]]:
    """A dependency for every route of a service: the caller's role must be in the route's
    row of the table, checked before the body is even read (so a refused caller learns
    nothing from validation). A route missing from the table is refused: closed by default."""

    async def check(request: Request, caller: PrincipalDep) -> None:
        route = request.scope.get("route")
        key = operation_key(request.method, getattr(route, "path", ""))
        access = table.get(key)
        if access is None or not caller.has(*access.roles):
            raise Forbidden("this role may not do this", rule="auth.role")
        if access.scope == "province" and not caller.at_province:
            raise Forbidden("only the provincial federation does this", rule="auth.org")

    return check
