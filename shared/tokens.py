"""Bearer tokens: verified against an identity provider's published keys, never a shared secret.

A union signs its staff in with its OpenID Connect provider (Keycloak or another). The services
hold only the provider's public keys (its JWKS), so nothing in a service can mint a token. The
claims that carry roles and the org path are configurable, since every realm names them its own
way (Keycloak puts realm roles under `realm_access.roles`).

On a developer's machine and in tests the provider is a local issuer: an ES256 key pair in a
folder, whose public half is written as a JWKS file. Services verify local tokens exactly as they
verify the provider's: through the JWKS, by key id.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ALGORITHMS = ("RS256", "ES256")
# RFC 9068 access tokens say `at+jwt`; providers that predate it say `JWT` or nothing. Any other
# type (an ID token's, a logout token's) is not an access token.
TOKEN_TYPES = ("jwt", "at+jwt", "application/at+jwt")
# A token naming a key id the cached key set lacks makes the verifier read the JWKS again (the
# provider rotated its keys), at most this often, so that made-up key ids cannot flood it.
_REFRESH_AT_MOST_EVERY_S = 1.0
# The key set is read again once the provider's Cache-Control max-age has passed, and at least
# this often, so that a key the provider withdraws stops working within minutes.
_KEYS_KEPT_AT_MOST_S = 300.0
_REMEMBER_VERIFIED_S = 60.0
_REMEMBER_AT_MOST = 10_000


class TokenInvalid(Exception):
    """The token cannot be trusted; the message names why, never the token."""


class SigningKeysUnavailable(ConnectionError):
    """The provider's keys cannot be read: an outage (503, retry), not the caller's fault."""


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by dotted path: `realm_access.roles`."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


@dataclass
class JwksVerifier:
    """Verifies RS256/ES256 tokens against the keys a JWKS URL publishes (https:// from the
    provider; file:// for the local issuer)."""

    jwks_url: str
    issuer: str
    audience: str
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    _read_at: float = float("-inf")
    _fresh_until: float = float("-inf")
    # Tokens verified lately, with their claims: a caller sends the same token with every
    # request, and checking its signature costs more than many reads. Kept for a minute at
    # most (and never past the token's expiry), so a key the provider withdraws stops working
    # within that minute.
    _verified: OrderedDict[str, tuple[float, dict[str, Any]]] = field(default_factory=OrderedDict)
    _reading: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    async def verify(self, token: str) -> dict[str, Any]:
        now = time.time()
        known = self._verified.get(token)
        if known is not None and known[0] > now:
            return known[1]
        claims = await self._verify(token)
        until = min(now + _REMEMBER_VERIFIED_S, float(claims["exp"]))
        self._verified[token] = (until, claims)
        if len(self._verified) > _REMEMBER_AT_MOST:
            self._verified.popitem(last=False)
        return claims

    async def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenInvalid(type(exc).__name__) from None
        if header.get("alg") not in ALGORITHMS:
            raise TokenInvalid("algorithm not accepted")
        if str(header.get("typ", "JWT")).lower() not in TOKEN_TYPES:
            raise TokenInvalid("not an access token")
        key = await self._key(str(header.get("kid", "")))
        if key.algorithm_name != header["alg"]:  # a key is used with its own algorithm only
            raise TokenInvalid("algorithm does not match the signing key")
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
                leeway=30,
            )
        except (jwt.PyJWTError, TypeError, ValueError) as exc:
            raise TokenInvalid(type(exc).__name__) from None

    async def _key(self, kid: str) -> jwt.PyJWK:
        expired = time.monotonic() >= self._fresh_until
        if kid not in self._keys or expired:
            # One reader at a time; those who waited for it look again before reading, so a
            # burst of requests at start-up reads once and none is refused while it reads.
            async with self._lock():
                now = time.monotonic()
                stale = now - self._read_at >= _REFRESH_AT_MOST_EVERY_S
                if (kid not in self._keys and stale) or now >= self._fresh_until:
                    self._read_at = now
                    self._keys, max_age = await asyncio.to_thread(self._read)
                    self._fresh_until = now + min(max_age, _KEYS_KEPT_AT_MOST_S)
        if kid not in self._keys:
            raise TokenInvalid("unknown signing key")
        return self._keys[kid]

    def _lock(self) -> asyncio.Lock:
        """One per event loop: a lock is bound to the loop it first waits in."""
        loop = asyncio.get_running_loop()
        if self._reading is None or self._reading[0] is not loop:
            self._reading = (loop, asyncio.Lock())
        return self._reading[1]

    def _read(self) -> tuple[dict[str, jwt.PyJWK], float]:
        """The provider's signing keys, and for how long it says they may be kept."""
        max_age = _KEYS_KEPT_AT_MOST_S
        try:
            if self.jwks_url.startswith("file://"):  # the local issuer's key set
                document = json.loads(Path(urlsplit(self.jwks_url).path).read_text())
            else:
                with urllib.request.urlopen(self.jwks_url, timeout=5) as answer:
                    max_age = _max_age(answer.headers.get("Cache-Control"), max_age)
                    document = json.loads(answer.read())
            keys = jwt.PyJWKSet.from_dict(document).keys
        except OSError as exc:
            raise SigningKeysUnavailable(
                f"signing keys unavailable ({type(exc).__name__})"
            ) from None
        except (jwt.PyJWTError, ValueError) as exc:
            raise SigningKeysUnavailable(
                f"signing keys unavailable ({type(exc).__name__})"
            ) from None
        usable = {
            k.key_id: k
            for k in keys
            if k.key_id and k.public_key_use != "enc" and k.algorithm_name in ALGORITHMS
        }
        return usable, max_age


def _max_age(cache_control: str | None, default: float) -> float:
    """`max-age` from a Cache-Control header (`no-store`/`no-cache`: read every time)."""
    for directive in (cache_control or "").lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name in ("no-store", "no-cache"):
            return 0.0
        if name == "max-age" and value.strip().isdigit():
            return float(value.strip())
    return default


def local_issuer_dir() -> Path:
    return Path(os.environ.get("JINHUI_LOCAL_ISSUER", Path.home() / ".jinhui" / "issuer"))


@dataclass(frozen=True)
class LocalIssuer:
    """The development and test stand-in for the identity provider: a key pair in a folder,
    created on first use, with its public half as `jwks.json`."""

    folder: Path

    @classmethod
    def default(cls) -> LocalIssuer:
        issuer = cls(local_issuer_dir())
        issuer.ensure()
        return issuer

    @property
    def jwks_url(self) -> str:
        return (self.folder / "jwks.json").resolve().as_uri()

    @property
    def key_id(self) -> str:
        return json.loads((self.folder / "jwks.json").read_text())["keys"][0]["kid"]

    def ensure(self) -> None:
        """Create the key pair once; processes starting together agree on one key."""
        pem_path = self.folder / "signing-key.pem"
        if (self.folder / "jwks.json").exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(pem_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            self._wait_for_jwks()
            return
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        jwk |= {"kid": uuid.uuid4().hex[:16], "use": "sig", "alg": "ES256"}
        partial = self.folder / f"jwks.json.{os.getpid()}"
        partial.write_text(json.dumps({"keys": [jwk]}))
        partial.replace(self.folder / "jwks.json")

    def _wait_for_jwks(self) -> None:
        deadline = time.monotonic() + 10
        while not (self.folder / "jwks.json").exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local issuer in {self.folder} has no jwks.json")
            time.sleep(0.05)

    def issue(
        self,
        *,
        issuer: str,
        audience: str,
        subject: str,
        roles: list[str],
        org: str,
        ttl: timedelta = timedelta(hours=8),
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": subject,
            "roles": roles,
            "org": org,
            "iss": issuer,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": str(uuid.uuid4()),
            **(extra or {}),
        }
        key = serialization.load_pem_private_key(
            (self.folder / "signing-key.pem").read_bytes(), password=None
        )
        headers = {"kid": self.key_id, "typ": "at+jwt"}
        return jwt.encode(claims, key, algorithm="ES256", headers=headers)  # type: ignore[arg-type]
