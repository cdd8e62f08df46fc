"""One producer configuration for the whole suite: acks from every in-sync replica, and no
idempotent producer or transactions, which the local broker does not offer. At-least-once is
the contract; every consumer is idempotent."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.helpers import create_ssl_context

from shared.settings import ServiceSettings


def security(settings: ServiceSettings | None) -> dict[str, Any]:
    """Connection security for a real cluster (Strimzi: TLS listener with SCRAM-SHA-512 users);
    the local broker needs none."""
    if settings is None or settings.kafka_security_protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile)
    if settings.kafka_security_protocol.startswith("SASL"):
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": settings.kafka_sasl_password.get_secret_value(),
        }
    return options


def make_producer(
    bootstrap_servers: str, client_id: str, settings: ServiceSettings | None = None
) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        **security(settings),
        acks="all",
        enable_idempotence=False,
        linger_ms=1,
        request_timeout_ms=15_000,
        retry_backoff_ms=200,
    )
