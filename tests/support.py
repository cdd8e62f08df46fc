"""Helpers for the integration tests: services running in-process on the real stack."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from fastapi import FastAPI

from shared.auth import Role, issue_token
from shared.clock import Clock
from shared.localstack import Stack
from shared.runtime import Runtime
from shared.settings import ServiceSettings

T = TypeVar("T")
TEST_SETTINGS = ServiceSettings(environment="test")


def bearer(*roles: Role, org: str = "shanxi", subject: str = "tester") -> dict[str, str]:
    token = issue_token(TEST_SETTINGS, subject=subject, roles=list(roles), org=org)
    return {"Authorization": f"Bearer {token}"}


@dataclass
class RunningService:
    app: FastAPI
    client: httpx.AsyncClient
    runtime: Runtime


def service_settings(name: str, stack: Stack, **overrides: Any) -> ServiceSettings:
    module = importlib.import_module(f"services.{name}.settings")
    cls = next(
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, ServiceSettings) and v is not ServiceSettings
    )
    values: dict[str, Any] = {
        "database_url": stack.database_urls[name],
        "kafka_bootstrap_servers": stack.bootstrap_servers,
        "environment": "test",
        "outbox_poll_interval_s": 0.02,
        "kafka_session_timeout_ms": 6000,
        "log_json": False,
        **overrides,
    }
    return cls(**values)


@asynccontextmanager
async def running_service(
    name: str, stack: Stack, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[RunningService]:
    module = importlib.import_module(f"services.{name}.entrypoints.app")
    app: FastAPI = module.create_app(service_settings(name, stack, **overrides), clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as client:
            yield RunningService(app, client, app.state.runtime)


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout_s: float = 20, interval_s: float = 0.05
) -> T:
    """Wait for an asynchronous effect; fails the test with the last value when it never comes."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    last: T | None = None
    while asyncio.get_running_loop().time() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s}s (last value: {last!r})")


def header(record: ConsumerRecord, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return value.decode()
    return None


async def read_topic(
    bootstrap_servers: str,
    topic: str,
    *,
    until: Callable[[list[ConsumerRecord]], bool],
    timeout_s: float = 20,
) -> list[ConsumerRecord]:
    """Records of a topic from the beginning (no consumer group) until `until` holds."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[ConsumerRecord] = []
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not until(records):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{topic}: condition not met in {timeout_s}s")
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
        return records
    finally:
        await consumer.stop()


def has_ids(*ids: str) -> Callable[[list[ConsumerRecord]], bool]:
    wanted = set(ids)
    return lambda records: wanted <= {header(r, "ce_id") for r in records}
