"""The local issuer's sign-in, for development and tests only: an OpenID provider small enough
to read, so that the console signs people in exactly as it does against the union's Keycloak —
authorization code with PKCE, tokens signed by the local issuer's key — while one picks a role
and a place in the union tree instead of typing a password.

It is mounted only in dev and test with no provider configured (`ConsoleSettings.local_issuer`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from console.roles import ROLE_TITLES
from console.settings import ConsoleSettings
from shared.orgs import parse_org
from shared.tokens import LocalIssuer

router = APIRouter(prefix="/local-issuer", include_in_schema=False)
CODE_TTL_S = 120
# Places people commonly sign in as when trying the console; any valid org path may be typed.
EXAMPLE_ORGS = {
    "shanxi": "山西省总工会",
    "shanxi/taiyuan": "太原市总工会",
    "shanxi/taiyuan/xiaodian": "小店区总工会",
    "shanxi/taiyuan/xiaodian/bu-0001": "小店区基层工会 bu-0001",
}


@dataclass(frozen=True)
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    subject: str
    roles: tuple[str, ...]
    org: str
    expires: float


def _grants(request: Request) -> dict[str, Grant]:
    return request.app.state.local_grants


def _settings(request: Request) -> ConsoleSettings:
    return request.app.state.settings


@router.get("/.well-known/openid-configuration")
async def discovery(request: Request) -> dict[str, Any]:
    settings = _settings(request)
    base = f"{settings.console_url}/local-issuer"
    return {
        "issuer": settings.jwt_issuer,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "jwks_uri": f"{base}/jwks.json",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post"],
    }


@router.get("/jwks.json")
async def jwks() -> JSONResponse:
    issuer = LocalIssuer.default()
    return JSONResponse(json.loads((issuer.folder / "jwks.json").read_text()))


@router.get("/authorize", response_class=HTMLResponse)
async def authorize_page(
    request: Request,
    client_id: Annotated[str, Query(max_length=100)],
    redirect_uri: Annotated[str, Query(max_length=500)],
    state: Annotated[str, Query(max_length=500)],
    code_challenge: Annotated[str, Query(min_length=43, max_length=128)],
    code_challenge_method: Annotated[str, Query(pattern="^S256$")],
    response_type: Annotated[str, Query(pattern="^code$")] = "code",
    nonce: Annotated[str | None, Query(max_length=500)] = None,
    scope: Annotated[str, Query(max_length=200)] = "openid",
) -> HTMLResponse:
    _check_redirect(_settings(request), redirect_uri)
    hidden = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": code_challenge,
        "nonce": nonce or "",
    }
    return request.app.state.templates.TemplateResponse(
        request,
        "local_signin.html",
        {"hidden": hidden, "roles": ROLE_TITLES, "orgs": EXAMPLE_ORGS},
    )


@router.post("/authorize")
async def authorize(
    request: Request,
    client_id: Annotated[str, Form(max_length=100)],
    redirect_uri: Annotated[str, Form(max_length=500)],
    state: Annotated[str, Form(max_length=500)],
    code_challenge: Annotated[str, Form(min_length=43, max_length=128)],
    role: Annotated[str, Form(max_length=50)],
    org: Annotated[str, Form(max_length=200)],
    name: Annotated[str, Form(min_length=1, max_length=50)],
    nonce: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    _check_redirect(_settings(request), redirect_uri)
    if role not in ROLE_TITLES:
        raise HTTPException(422, "unknown role")
    code = secrets.token_urlsafe(32)
    grants = _grants(request)
    now = time.monotonic()
    for old in [c for c, g in grants.items() if g.expires < now]:
        del grants[old]
    grants[code] = Grant(
        client_id=client_id,
        redirect_uri=redirect_uri,
        challenge=code_challenge,
        nonce=nonce or None,
        subject=name.strip(),
        roles=(role,),
        org=parse_org(org),
        expires=now + CODE_TTL_S,
    )
    return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", 303)


@router.post("/token")
async def token(
    request: Request,
    grant_type: Annotated[str, Form()],
    code: Annotated[str, Form(max_length=100)],
    redirect_uri: Annotated[str, Form(max_length=500)],
    code_verifier: Annotated[str, Form(min_length=43, max_length=128)],
    client_id: Annotated[str, Form(max_length=100)] = "",
) -> JSONResponse:
    grant = _grants(request).pop(code, None)  # a code is good once
    if (
        grant_type != "authorization_code"
        or grant is None
        or grant.expires < time.monotonic()
        or grant.redirect_uri != redirect_uri
        or (client_id and client_id != grant.client_id)
        or _s256(code_verifier) != grant.challenge
    ):
        return JSONResponse({"error": "invalid_grant"}, status_code=400)
    settings = _settings(request)
    issuer = LocalIssuer.default()
    ttl = timedelta(hours=8)
    access = issuer.issue(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        subject=grant.subject,
        roles=list(grant.roles),
        org=grant.org,
        ttl=ttl,
        extra={"name": grant.subject},
    )
    return JSONResponse(
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(ttl.total_seconds()),
            "id_token": _id_token(issuer, settings, grant, ttl),
            "scope": "openid profile",
        },
        headers={"Cache-Control": "no-store"},
    )


def _id_token(issuer: LocalIssuer, settings: ConsoleSettings, grant: Grant, ttl: timedelta) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": grant.client_id,
        "sub": grant.subject,
        "name": grant.subject,
        "iat": now,
        "exp": now + ttl,
        "roles": list(grant.roles),
        "org": grant.org,
    }
    if grant.nonce:
        claims["nonce"] = grant.nonce
    key = serialization.load_pem_private_key(
        (issuer.folder / "signing-key.pem").read_bytes(), password=None
    )
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": issuer.key_id})  # type: ignore[arg-type]


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _check_redirect(settings: ConsoleSettings, redirect_uri: str) -> None:
    """Codes go back to the console only: never to an address a link was made to carry."""
    if not redirect_uri.startswith(f"{settings.console_url}/"):
        raise HTTPException(400, "redirect_uri is not the console's")
