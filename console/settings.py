"""The console's settings: where the services are, and who signs people in."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import SAFE_ENVIRONMENTS, dev_secret, unsafe_secret

SERVICES = ("members", "entitlements", "disbursements", "hardship")


class ConsoleSettings(BaseSettings):
    """Outside dev and test the console needs a real provider and its own session secret."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    environment: Literal["dev", "test", "staging", "prod"] = "dev"
    # The console's own address, as browsers reach it: the sign-in's redirect comes back here.
    console_url: str = "http://127.0.0.1:8000"
    members_url: str = "http://127.0.0.1:8001"
    entitlements_url: str = "http://127.0.0.1:8002"
    disbursements_url: str = "http://127.0.0.1:8003"
    hardship_url: str = "http://127.0.0.1:8004"
    # The provider's issuer URL (its `/.well-known/openid-configuration` is read); empty in dev
    # and test: the local issuer's sign-in page, served by the console itself.
    oidc_issuer_url: str = ""
    oidc_client_id: str = "jinhui-console"
    # Empty for a public client: the code is bound to the browser by PKCE either way.
    oidc_client_secret: str = ""
    oidc_scope: str = "openid profile"
    # What the services expect of an access token; the local issuer signs exactly that.
    jwt_issuer: str = "jinhui"
    jwt_audience: str = "jinhui"
    jwt_jwks_url: str = ""
    jwt_roles_claim: str = "roles"
    jwt_org_claim: str = "org"
    # Signs the session cookie (which holds the signed-in user's access token).
    console_session_secret: str = dev_secret("dev-console-session-secret-not-for-production")
    # A service that does not answer within this long is shown as unavailable, not waited on.
    api_timeout_s: float = Field(default=30.0, gt=0, le=120)

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> ConsoleSettings:
        if self.environment in SAFE_ENVIRONMENTS:
            return self
        problems = []
        if why := unsafe_secret(self.console_session_secret):
            problems.append(f"CONSOLE_SESSION_SECRET is unsafe: {why}")
        if not self.oidc_issuer_url.startswith("https://"):
            problems.append("OIDC_ISSUER_URL must be the identity provider's https:// issuer")
        if not self.console_url.startswith("https://"):
            problems.append("CONSOLE_URL must be https:// (the session cookie is Secure)")
        if problems:
            raise ValueError(f"refusing to start in {self.environment}: " + "; ".join(problems))
        return self

    @property
    def local_issuer(self) -> bool:
        """The dev and test stand-in provider, at `/local-issuer` on the console itself."""
        return not self.oidc_issuer_url and self.environment in SAFE_ENVIRONMENTS

    @property
    def metadata_url(self) -> str:
        base = self.oidc_issuer_url or f"{self.console_url}/local-issuer"
        return f"{base.rstrip('/')}/.well-known/openid-configuration"

    def service_url(self, service: str) -> str:
        return str(getattr(self, f"{service}_url")).rstrip("/")
