"""One settings base for every service: read from the environment, fail fast when unsafe."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SAFE_ENVIRONMENTS = {"dev", "test"}
_DEV_VALUES: set[str] = set()


def dev_secret(value: str) -> str:
    """Declare a development default, so that it is refused outside dev and test."""
    _DEV_VALUES.add(value)
    return value


class ServiceSettings(BaseSettings):
    """Settings every service shares; a service subclasses it to add its own.

    Outside `dev` and `test` the process refuses to start with a development or short
    secret: a union's payouts must never be signed with a key that is in a public README.
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    service_name: str = "jinhui"
    environment: Literal["dev", "test", "staging", "prod"] = "dev"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/jinhui"
    # Connections kept open, and how many more a burst may open: an extra one is closed when
    # it is given back, so a pool too small for the usual concurrency connects anew on every
    # request (at 32 concurrent ledger reads, 16 + 4 answered a third more than 10 + 10).
    db_pool_size: int = Field(default=16, ge=1, le=200)
    db_pool_overflow: int = Field(default=4, ge=0, le=200)
    # How long a caller waits for a pooled connection before the service answers 503.
    db_pool_timeout_s: float = Field(default=1.0, gt=0, le=30)
    # API requests under way at once in one process; the next is refused at once (503 with
    # Retry-After) rather than served seconds late behind the others (`shared.http.admission`).
    http_max_in_flight: int = Field(default=128, ge=1, le=10_000)
    # A background task failing this long turns /readyz red.
    unhealthy_after_s: float = Field(default=30.0, gt=0)
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_cafile: str | None = None
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 1_000
    # How often a service checks that its topics (and their dead-letter topics) exist.
    kafka_topic_check_interval_s: float = Field(default=15.0, gt=0)
    # When the broker comes back empty, outbox rows published this recently are sent again.
    kafka_republish_window_s: float = Field(default=3_600.0, ge=0)
    # How often a service sees how far every reader of its topics has read: after an empty
    # broker it re-sends only what was published since (`shared.kafka.read_through`).
    kafka_read_through_interval_s: float = Field(default=20.0, gt=0)
    # After an empty broker, how long to let consumer groups settle before reading once more.
    kafka_rewind_settle_s: float = Field(default=15.0, ge=0)
    # Consecutive messages of a partition that may share one database transaction.
    kafka_consumer_chunk_size: int = Field(default=50, ge=1, le=500)
    # How long a fetch may wait at the broker for data. Apache Kafka answers a waiting fetch as
    # soon as data arrives, so there a larger value costs no latency; Tansu answers only when
    # the wait is over, so every hop between services waits half of it on average.
    kafka_fetch_max_wait_ms: int = Field(default=20, ge=1, le=500)
    # The same for a consumer that has read nothing for a second (`shared.kafka.consumer.
    # fetch_wait`): on Tansu the first message after a quiet spell waits up to this once; an
    # idle stack's broker works a fifth as hard as at 20 ms. Never below the wait above.
    kafka_idle_fetch_max_wait_ms: int = Field(default=100, ge=1, le=500)
    # Topics a service creates itself (`jinhui up`, or a cluster that lets it): as many copies
    # as the cluster keeps of its other topics. `deploy/k8s` sets the same as its KafkaTopics.
    kafka_replication_factor: int = Field(default=1, ge=1, le=7)
    kafka_min_insync_replicas: int | None = Field(default=None, ge=1, le=7)
    # The identity provider's signing keys (its JWKS), e.g. Keycloak's
    # https://sso.example/realms/jinhui/protocol/openid-connect/certs. Required outside dev and
    # test; there, empty means the local issuer (`shared.tokens.LocalIssuer`).
    jwt_jwks_url: str = ""
    jwt_issuer: str = "jinhui"
    jwt_audience: str = "jinhui"
    # Dotted paths of the claims that carry the caller's roles and org path.
    jwt_roles_claim: str = "roles"
    jwt_org_claim: str = "org"
    # Local commits wake the relay at once; the poll finds rows other replicas wrote.
    outbox_poll_interval_s: float = 0.2
    outbox_batch_size: int = 500
    # Published outbox rows and processed-message records are kept this long: longer than any
    # topic keeps a message (14 days; dead letters 30), so de-duplication always holds.
    retention_days: int = Field(default=45, ge=31)
    retention_check_interval_s: float = Field(default=3_600.0, gt=0)
    otel_exporter_otlp_endpoint: str | None = None
    # A request, message or job that took this long is traced even when its trace was not
    # among the share kept (`OTEL_TRACES_SAMPLER_ARG`, 10%); one that failed always is.
    trace_slow_ms: float = Field(default=1000.0, gt=0)
    log_level: str = "INFO"
    log_json: bool = True
    run_background_workers: bool = True

    @model_validator(mode="after")
    def _refuse_unsafe_secrets(self) -> ServiceSettings:
        if self.environment in SAFE_ENVIRONMENTS:
            return self
        problems = [
            f"{name.upper()} is unsafe: {why}"
            for name, value in self.secrets().items()
            if (why := unsafe_secret(value))
        ]
        if not self.jwt_jwks_url.startswith("https://"):
            problems.append("JWT_JWKS_URL must be the identity provider's https:// JWKS")
        if problems:
            raise ValueError(f"refusing to start in {self.environment}: " + "; ".join(problems))
        return self

    def secrets(self) -> dict[str, str]:
        """Every secret the service holds; a subclass adds its own. Tokens need none: the
        services hold only the identity provider's public keys."""
        return {}

    @property
    def async_database_url(self) -> str:
        return to_async_url(self.database_url)


def unsafe_secret(value: str) -> str | None:
    if value in _DEV_VALUES or ("dev" in value.lower() and len(value) < 48):
        return "it is a development value"
    if len(value) < 32:
        return "shorter than 32 characters"
    if len(set(value)) < 8:
        return "too few distinct characters"
    return None


def to_async_url(url: str) -> str:
    """Accept the libpq spelling operators know and hand SQLAlchemy its asyncpg dialect."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")
