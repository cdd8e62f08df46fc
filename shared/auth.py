"""Who is calling, and where in the union tree they may act.

Tokens are the identity provider's JWT bearer tokens (`shared.tokens`), carrying roles and an
org path: `shanxi/taiyuan/xiaodian/bu-0001`
(province / city or provincial industrial union / county / base union). A caller may act on
its own org and everything below it; nothing above or beside it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from shared.orgs import org_contains, parse_org
from shared.settings import SAFE_ENVIRONMENTS, ServiceSettings
from shared.tokens import JwksVerifier, LocalIssuer, TokenInvalid, claim


class Role(StrEnum):
    HR_INTEGRATION = "hr_integration"
    FINANCE_OFFICER = "finance_officer"
    CASEWORKER = "caseworker"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    org: str

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def at_province(self) -> bool:
        """At the root of the org tree: the provincial federation."""
        return "/" not in self.org

    def can_reach(self, org: str) -> bool:
        return org_contains(self.org, org)

    def org_in_reach(self, union: str | None) -> str:
        """The org a list or report is asked for (`union`, or the caller's own): one outside the
        caller's part of the tree does not exist for it (404)."""
        org = parse_org(union) if union else self.org
        if not self.can_reach(org):
            raise NotFound(f"no union {org}")
        return org

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
    """A token from the local issuer, for development and tests only: in staging and
    production the identity provider signs tokens, and nothing here can."""
    if settings.environment not in SAFE_ENVIRONMENTS:
        raise RuntimeError("tokens are issued by the identity provider outside dev and test")
    return LocalIssuer.default().issue(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        subject=subject,
        roles=[r.value for r in roles],
        org=parse_org(org),
        ttl=ttl,
    )


def principal_from(settings: ServiceSettings, claims: dict[str, Any]) -> Principal:
    """Roles and org path from the claims the settings name (e.g. Keycloak's
    `realm_access.roles`); roles Jinhui does not know are the provider's business, not ours."""
    raw_roles = claim(claims, settings.jwt_roles_claim) or []
    if not isinstance(raw_roles, list) or not all(isinstance(r, str) for r in raw_roles):
        raise Unauthenticated("the token's roles claim is not a list of names")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise Unauthenticated("the token names no subject")
    known = {r.value for r in Role}
    org = claim(claims, settings.jwt_org_claim)
    if isinstance(org, list) and len(org) == 1:  # a Keycloak group path arrives as a list
        org = org[0]
    if not isinstance(org, str):
        raise Unauthenticated("the token carries no org path")
    try:
        where = parse_org(org)
    except InvalidInput:
        raise Unauthenticated("the token's org path is not valid") from None
    roles = frozenset(Role(r) for r in raw_roles if r in known)
    return Principal(subject=str(claims["sub"]), roles=roles, org=where)


@functools.cache
def verifier(jwks_url: str, issuer: str, audience: str) -> JwksVerifier:
    return JwksVerifier(jwks_url, issuer, audience)


def jwks_url(settings: ServiceSettings) -> str:
    """The provider's JWKS; in dev and test without one, the local issuer's."""
    return settings.jwt_jwks_url or _local_jwks_url()


@functools.cache
def _local_jwks_url() -> str:
    return LocalIssuer.default().jwks_url


async def decode_token(settings: ServiceSettings, token: str) -> Principal:
    check = verifier(jwks_url(settings), settings.jwt_issuer, settings.jwt_audience)
    try:
        claims = await check.verify(token)
    except TokenInvalid as exc:
        raise Unauthenticated(f"the bearer token is not valid ({exc})") from None
    return principal_from(settings, claims)


_bearer = HTTPBearer(auto_error=False)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("send a bearer token: Authorization: Bearer <token>")
    return await decode_token(request.app.state.settings, credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(authenticate)]
