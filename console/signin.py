"""Sign-in: OpenID Connect authorization code with PKCE (Authlib), against the union's provider
or, in dev and test, the local issuer. The session cookie keeps the access token the services
will see; nothing else about the person is trusted that the token does not say."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console.backend import SignInNeeded
from console.settings import ConsoleSettings
from shared.tokens import JwksVerifier, LocalIssuer, TokenInvalid, claim

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Person:
    """Who is signed in, as their access token says."""

    token: str
    name: str
    roles: frozenset[str]
    org: str

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def at_province(self) -> bool:
        return "/" not in self.org


def oidc_client(settings: ConsoleSettings) -> StarletteOAuth2App:
    oauth = OAuth()
    client_kwargs: dict[str, Any] = {"scope": settings.oidc_scope, "code_challenge_method": "S256"}
    if not settings.oidc_client_secret:
        client_kwargs["token_endpoint_auth_method"] = "none"
    return oauth.register(
        "jinhui",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret or None,
        server_metadata_url=settings.metadata_url,
        client_kwargs=client_kwargs,
    )


def token_verifier(settings: ConsoleSettings) -> JwksVerifier:
    """The services' own check of a token, so the console never shows a page for a token the
    services would refuse."""
    jwks = settings.jwt_jwks_url or LocalIssuer.default().jwks_url
    return JwksVerifier(jwks, settings.jwt_issuer, settings.jwt_audience)


def person(request: Request) -> Person:
    signed_in = request.session.get("person")
    if not isinstance(signed_in, dict):
        raise SignInNeeded()
    return Person(
        token=str(signed_in["token"]),
        name=str(signed_in["name"]),
        roles=frozenset(signed_in["roles"]),
        org=str(signed_in["org"]),
    )


@router.get("/signin", name="signin")
async def signin(request: Request) -> Any:
    settings: ConsoleSettings = request.app.state.settings
    client: StarletteOAuth2App = request.app.state.oidc
    return await client.authorize_redirect(request, f"{settings.console_url}/signin/callback")


@router.get("/signin/callback", name="signin_callback")
async def callback(request: Request) -> RedirectResponse:
    client: StarletteOAuth2App = request.app.state.oidc
    settings: ConsoleSettings = request.app.state.settings
    answer = await client.authorize_access_token(request)
    access = str(answer["access_token"])
    try:
        claims = await request.app.state.verifier.verify(access)
    except TokenInvalid:
        raise SignInNeeded() from None
    roles = claim(claims, settings.jwt_roles_claim) or []
    org = claim(claims, settings.jwt_org_claim)
    if isinstance(org, list) and len(org) == 1:
        org = org[0]
    info = answer.get("userinfo") or {}
    request.session["person"] = {
        "token": access,
        "name": str(info.get("name") or claims.get("name") or claims["sub"]),
        "roles": [r for r in roles if isinstance(r, str)],
        "org": str(org or ""),
    }
    request.session.pop("reason", None)
    return RedirectResponse("/", 303)


@router.post("/signout", name="signout")
async def signout(request: Request) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/", 303)
