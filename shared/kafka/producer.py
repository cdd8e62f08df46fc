"""One producer configuration for the whole suite: acks from every in-sync replica, and no
idempotent producer or transactions, which the local broker does not offer. At-least-once is
the contract; every consumer is idempotent."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer


def make_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        linger_ms=5,
        request_timeout_ms=15_000,
        retry_backoff_ms=200,
    )
