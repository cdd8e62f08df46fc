"""Tokens from an OpenID Connect provider: verified by its published keys (JWKS), with the claims
that carry roles and the org path named in the settings, and keys the provider rotates."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.auth import Principal, Role, decode_token
from shared.errors import Unauthenticated
from shared.outages import is_outage
from shared.settings import ServiceSettings
from shared.tokens import SigningKeysUnavailable

ISSUER = "https://sso.example.org/realms/jinhui"


class Provider:
    """A stand-in identity provider: key pairs the test makes, a JWKS served over HTTP."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.reads = 0
        self.cache_control = "max-age=300"
        self.add_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.reads += 1
                body = json.dumps(provider.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", provider.cache_control)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/certs"

    def add_key(self, key: Any) -> str:
        kid = uuid.uuid4().hex[:12]
        self.keys[kid] = key
        return kid

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid, key in self.keys.items():
            if isinstance(key, rsa.RSAPrivateKey):
                jwk, alg = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()), "RS256"
            else:
                jwk, alg = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()), "ES256"
            out.append(json.loads(jwk) | {"kid": kid, "alg": alg, "use": "sig"})
        return {"keys": out}

    def token(
        self, kid: str | None = None, headers: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        kid = kid or next(iter(self.keys))
        key = self.keys[kid]
        alg = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
        now = datetime.now(UTC)
        body = {
            "iss": ISSUER,
            "aud": "jinhui",
            "sub": "f1c2-caseworker",
            "iat": now,
            "exp": now + timedelta(minutes=5),
            "realm_access": {"roles": ["caseworker", "offline_access", "uma_authorization"]},
            "union_org": "/shanxi/datong",
        } | claims
        return jwt.encode(body, key, algorithm=alg, headers={"kid": kid} | (headers or {}))


@pytest.fixture
def provider() -> Iterator[Provider]:
    p = Provider()
    yield p
    p.server.shutdown()


def _settings(provider: Provider, **extra: Any) -> ServiceSettings:
    """As deploy/k8s configures the services for a Keycloak realm."""
    return ServiceSettings(
        environment="prod",
        jwt_jwks_url=provider.url.replace("http://", "https://"),
        jwt_issuer=ISSUER,
        jwt_audience="jinhui",
        jwt_roles_claim="realm_access.roles",
        jwt_org_claim="union_org",
        **extra,
    ).model_copy(update={"jwt_jwks_url": provider.url})  # served over plain HTTP in the test


async def test_a_keycloak_token_names_the_caller_by_the_configured_claims(
    provider: Provider,
) -> None:
    principal = await decode_token(_settings(provider), provider.token())
    assert principal == Principal("f1c2-caseworker", frozenset({Role.CASEWORKER}), "shanxi/datong")


async def test_a_rotated_key_is_fetched_once_and_trusted(provider: Provider) -> None:
    settings = _settings(provider)
    await decode_token(settings, provider.token())
    await decode_token(settings, provider.token())
    assert provider.reads == 1  # the key set is cached
    new_kid = provider.add_key(ec.generate_private_key(ec.SECP256R1()))
    await asyncio.sleep(1.0)  # made-up key ids may make the verifier read at most once a second
    principal = await decode_token(settings, provider.token(kid=new_kid))
    assert principal.roles == frozenset({Role.CASEWORKER})
    assert provider.reads == 2


async def test_a_burst_at_start_up_reads_the_keys_once_and_refuses_no_one(
    provider: Provider,
) -> None:
    settings = _settings(provider)
    tokens = [provider.token(sub=f"caller-{n}") for n in range(20)]
    principals = await asyncio.gather(*(decode_token(settings, t) for t in tokens))
    assert {p.subject for p in principals} == {f"caller-{n}" for n in range(20)}
    assert provider.reads == 1


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-app"},
        {"iss": "https://sso.example.org/realms/other"},
        {"exp": datetime.now(UTC) - timedelta(minutes=5)},
        {"union_org": "/shanxi/太原"},
        {"union_org": None},
        {"realm_access": {"roles": [["admin"]]}},
        {"realm_access": {"roles": "admin"}},
        {"sub": 42},
    ],
    ids=[
        "audience",
        "issuer",
        "expired",
        "org-path",
        "no-org",
        "nested-roles",
        "roles-text",
        "sub",
    ],
)
async def test_tokens_that_must_not_be_trusted_are_refused(
    provider: Provider, claims: dict[str, Any]
) -> None:
    with pytest.raises(Unauthenticated):
        await decode_token(_settings(provider), provider.token(**claims))


async def test_shared_secrets_and_unsigned_tokens_are_refused(provider: Provider) -> None:
    settings = _settings(provider)
    kid = next(iter(provider.keys))
    claims = {"iss": ISSUER, "aud": "jinhui", "sub": "x", "exp": 4_000_000_000}
    claims |= {"realm_access": {"roles": ["admin"]}, "union_org": "shanxi"}
    hs256 = jwt.encode(claims, "a-shared-secret-of-thirty-two-chars!", headers={"kid": kid})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    for token in (hs256, unsigned, "not-a-token"):
        with pytest.raises(Unauthenticated):
            await decode_token(settings, token)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": kid})
    with pytest.raises(Unauthenticated):
        await decode_token(settings, forged)


async def test_a_provider_that_cannot_be_reached_is_an_outage(provider: Provider) -> None:
    """503 and a retry, not 401: the caller's token may be perfectly good."""
    settings = _settings(provider).model_copy(
        update={"jwt_jwks_url": "http://127.0.0.1:9/certs", "jwt_audience": "unreachable"}
    )
    with pytest.raises(SigningKeysUnavailable) as raised:
        await decode_token(settings, provider.token(aud="unreachable"))
    assert is_outage(raised.value)


async def test_a_key_the_provider_withdraws_stops_working_when_its_cache_time_is_up(
    provider: Provider,
) -> None:
    """The key set is read again on the provider's Cache-Control max-age, not only when a
    token names an unknown key: a withdrawn key was once trusted 70 s later."""
    provider.cache_control = "public, max-age=1"
    settings = _settings(provider)
    kid = next(iter(provider.keys))
    await decode_token(settings, provider.token(sub="before"))
    provider.add_key(ec.generate_private_key(ec.SECP256R1()))
    withdrawn = provider.keys.pop(kid)  # tokens signed with it are still out there
    await asyncio.sleep(1.2)  # past the max-age the provider gave
    stale = jwt.encode(
        {"iss": ISSUER, "aud": "jinhui", "sub": "after", "exp": 4_000_000_000}
        | {"realm_access": {"roles": ["admin"]}, "union_org": "shanxi"},
        withdrawn,
        algorithm="RS256",
        headers={"kid": kid},
    )
    with pytest.raises(Unauthenticated):
        await decode_token(settings, stale)
    assert provider.reads == 2


async def test_a_key_of_one_type_named_with_another_algorithm_is_a_401(
    provider: Provider,
) -> None:
    """An EC key's id with `alg: RS256` once reached the library's key loader and answered 500."""
    settings = _settings(provider)
    ec_kid = provider.add_key(ec.generate_private_key(ec.SECP256R1()))
    rsa_key = next(k for k in provider.keys.values() if isinstance(k, rsa.RSAPrivateKey))
    claims = {"iss": ISSUER, "aud": "jinhui", "sub": "x", "exp": 4_000_000_000}
    crossed = jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": ec_kid})
    with pytest.raises(Unauthenticated):
        await decode_token(settings, crossed)


@pytest.mark.parametrize("typ", ["at+jwt", "JWT", "application/at+jwt"])
async def test_an_access_token_by_any_of_its_types_is_accepted(
    provider: Provider, typ: str
) -> None:
    assert await decode_token(_settings(provider), provider.token(headers={"typ": typ}))


@pytest.mark.parametrize("typ", ["logout+jwt", "id_token", "dpop+jwt"])
async def test_a_token_that_is_not_an_access_token_is_refused(provider: Provider, typ: str) -> None:
    with pytest.raises(Unauthenticated):
        await decode_token(_settings(provider), provider.token(headers={"typ": typ}))
