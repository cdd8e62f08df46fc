"""Helpers for the integration tests: services running in-process on the real stack."""

from __future__ import annotations

import asyncio
import base64
import io
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from fontTools.ttLib import TTFont

from services.disbursements.contracts import DisbursementRequested
from services.entitlements.domain.ledger import Outcome
from services.entitlements.service_layer.context import EntitlementsContext
from services.entitlements.service_layer.decisions import reserve
from shared.auth import Role, issue_token
from shared.errors import ConcurrencyConflict
from shared.outages import is_outage
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from shared.uow import UnitOfWork

T = TypeVar("T")
TEST_SETTINGS = ServiceSettings(environment="test")


def bearer(*roles: Role, org: str = "shanxi", subject: str = "tester") -> dict[str, str]:
    token = issue_token(TEST_SETTINGS, subject=subject, roles=list(roles), org=org)
    return {"Authorization": f"Bearer {token}"}


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout_s: float = 120, interval_s: float = 0.05
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
    timeout_s: float = 120,
    start: dict[int, int] | None = None,
) -> list[ConsumerRecord]:
    """Records of a topic (no consumer group) until `until` holds: from the beginning, or from
    `start` (partition → offset, as `topic_ends` gave them before the test acted)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = await _assign_all(consumer, topic)
        if start is None:
            await consumer.seek_to_beginning(*tps)
        else:
            for tp in tps:
                consumer.seek(tp, start.get(tp.partition, 0))
        records: list[ConsumerRecord] = []
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not until(records):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"{topic}: condition not met in {timeout_s}s ({len(records)} records read)"
                )
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
        return records
    finally:
        await consumer.stop()


async def topic_ends(bootstrap_servers: str, topic: str) -> dict[int, int]:
    """Each partition's end offset now: where a later `read_topic(start=…)` begins."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = await _assign_all(consumer, topic)
        ends = await consumer.end_offsets(tps)
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def _assign_all(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    partitions = consumer.partitions_for_topic(topic) or set()
    if not partitions:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(tps)
    return tps


def has_ids(*ids: str) -> Callable[[list[ConsumerRecord]], bool]:
    wanted = set(ids)
    return lambda records: wanted <= {header(r, "ce_id") for r in records}


async def reserve_now(
    ctx: EntitlementsContext, runtime: Runtime, request: DisbursementRequested
) -> Outcome | None:
    """`reserve` in its own unit of work, retried when another writer changed the ledger first
    or no connection was free (an outage is waited out, as the consumers do)."""
    while True:
        try:
            async with UnitOfWork(runtime) as uow:
                return await reserve(ctx, uow, request)
        except ConcurrencyConflict:
            continue
        except Exception as exc:
            if not is_outage(exc):
                raise
            await asyncio.sleep(0.05)


def embedded_characters(page: str) -> set[str]:
    """The characters the page's embedded font has a glyph for."""
    found = re.search(r"base64,([A-Za-z0-9+/=]+)\)", page)
    assert found, "no embedded font"
    font = TTFont(io.BytesIO(base64.b64decode(found.group(1))))
    return {chr(code) for code in font.getBestCmap()}
