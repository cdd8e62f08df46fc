"""Who is calling, and where in the union tree they may act.

Tokens are JWT bearer tokens carrying roles and an org path: `shanxi/taiyuan/xiaodian/bu-0001`
(province / city or provincial industrial union / county / base union). A caller may act on
its own org and everything below it; nothing above or beside it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import Forbidden, InvalidInput, Unauthenticated
from shared.settings import ServiceSettings


class Role(StrEnum):
    HR_INTEGRATION = "hr_integration"
    FINANCE_OFFICER = "finance_officer"
    CASEWORKER = "caseworker"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    ADMIN = "admin"


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


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    org: str

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def can_reach(self, org: str) -> bool:
        return org_contains(self.org, org)

    def require(self, *roles: Role) -> None:
        if not self.has(*roles):
            raise Forbidden(
                "this action needs one of the roles: " + ", ".join(sorted(r.value for r in roles)),
                rule="auth.role",
            )

    def require_org(self, org: str) -> None:
        if not self.can_reach(org):
            raise Forbidden(
                "the org is outside the caller's part of the union tree", rule="auth.org"
            )


def issue_token(
    settings: ServiceSettings,
    *,
    subject: str,
    roles: list[Role],
    org: str,
    ttl: timedelta = timedelta(hours=8),
) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "roles": [r.value for r in roles],
        "org": parse_org(org),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def decode_token(settings: ServiceSettings, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
        roles = frozenset(Role(r) for r in claims.get("roles", []))
        org = parse_org(str(claims["org"]))
    except (jwt.PyJWTError, ValueError, KeyError, InvalidInput) as exc:
        raise Unauthenticated(f"the bearer token is not valid ({type(exc).__name__})") from None
    return Principal(subject=str(claims["sub"]), roles=roles, org=org)


_bearer = HTTPBearer(auto_error=False)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("send a bearer token: Authorization: Bearer <token>")
    return decode_token(request.app.state.settings, credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(authenticate)]
