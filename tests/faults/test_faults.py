"""Faults while a batch runs: kill -9 of each service, PostgreSQL stopped and started, the broker
frozen, the broker restarted empty. After each, every line is decided exactly once, the ledgers
equal what was issued, payroll has one issue per issued line, nothing is pending, every outbox is
drained, and readiness told the truth while the fault lasted."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from jinhui.localstack import SERVICES
from shared.auth import Role
from shared.kafka.topics import ENTITLEMENTS_EVENTS, MEMBERS_EVENTS, Topic, ensure_topics
from tests.faults.conftest import Cluster, assert_settled, bearer, unfinished
from tests.support import eventually

OFFICER = bearer(Role.FINANCE_OFFICER)


async def _watch_readiness(
    cluster: Cluster, service: str, seconds: float, until: int | None = None
) -> set[int | None]:
    """Every answer of `/readyz` for `seconds`, or until it answers `until`."""
    seen: set[int | None] = set()
    end = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < end and until not in seen:
        seen.add(await cluster.readiness(service))
        await asyncio.sleep(0.3)
    return seen


async def _batch_under_way(cluster: Cluster, tag: str) -> str:
    """A batch, and the fault must find it still running."""
    batch_id = await cluster.batch(f"{tag}-{uuid.uuid4().hex[:6]}")
    await asyncio.sleep(0.2)
    assert await unfinished(cluster, batch_id) > 0
    return batch_id


async def _recovered(cluster: Cluster, batch_id: str, timeout_s: float = 150) -> None:
    for service in SERVICES:
        await cluster.ready(service)
    await assert_settled(cluster, batch_id, timeout_s=timeout_s)


async def test_kill_9_of_each_service_during_a_batch(cluster: Cluster) -> None:
    batch_id = await cluster.batch(f"kill-{uuid.uuid4().hex[:6]}")
    for service in ("disbursements", "entitlements", "members", "hardship"):
        await asyncio.sleep(0.2)
        if service == "entitlements":
            assert await unfinished(cluster, batch_id) > 0  # the kills hit a running batch
        cluster.kill_9(service)
        assert await cluster.readiness(service) is None  # gone, and says nothing
        await asyncio.sleep(0.5)
        cluster.start(service)
        # serving again; ready (caught up) would let the batch finish before the next kill
        await cluster.ready(service, probe="/healthz")
    await _recovered(cluster, batch_id)
    statuses = await assert_settled(cluster, batch_id)
    assert statuses["issued"] > 0


async def test_postgres_stopped_and_started_during_a_batch(cluster: Cluster) -> None:
    postgres = cluster.stack.postgres
    assert postgres is not None
    batch_id = await _batch_under_way(cluster, "pg")
    postgres.halt()
    try:
        during = await _watch_readiness(cluster, "entitlements", 5)
        assert 503 in during and 200 not in during  # readiness said so while it lasted
        client = cluster.clients["disbursements"]
        asked = await client.get(f"/v1/disbursement-batches/{batch_id}", headers=OFFICER)
        assert asked.status_code == 503 and asked.headers["retry-after"] == "1"
        assert asked.headers["content-type"].startswith("application/problem+json")
        again = await client.get("/healthz")  # the same keep-alive connection still serves
        assert again.status_code == 200
    finally:
        postgres.resume()
    await _recovered(cluster, batch_id)


async def test_broker_frozen_during_a_batch(cluster: Cluster) -> None:
    broker = cluster.broker
    batch_id = await _batch_under_way(cluster, "pause")
    broker.pause()
    try:
        # within seconds; on a machine whose cores another process holds, after the grace a
        # late-running process gives a silent broker (10 s)
        during = await _watch_readiness(cluster, "disbursements", 30, until=503)
        assert 503 in during
    finally:
        broker.unpause()
    await _recovered(cluster, batch_id)


async def test_idle_services_are_ready_again_when_a_frozen_broker_answers(
    cluster: Cluster,
) -> None:
    """No traffic at all: a consumer marked failing while the broker was frozen is healthy again
    when its broker answers, not when a message happens to arrive (readiness once stayed 503
    for half an hour after a 40-second freeze)."""
    broker = cluster.broker
    broker.pause()
    try:
        during = await _watch_readiness(cluster, "entitlements", 40)  # past a consumer's step
        assert 503 in during
    finally:
        broker.unpause()
    for service in SERVICES:
        await cluster.ready(service, timeout_s=120)  # nothing was sent to any of them


@pytest.mark.broker_loss
async def test_broker_restarted_empty_during_a_batch(cluster: Cluster) -> None:
    """Everything settles; and what every reader had read is not sent again: members' events,
    all read before the batch, stay where they are (600 of them once went again, twice)."""
    broker = cluster.broker
    members = {"service": "members", "topic": MEMBERS_EVENTS}

    registered = time.time()  # the fixture registered every member before

    async def read_by_all() -> bool:
        through = await cluster.metric(
            "members", "jinhui_topic_read_by_all_timestamp_seconds", **members
        )
        return through is not None and through > registered

    await eventually(read_by_all, interval_s=0.5)
    resent_before = await _resent(cluster, "members")
    batch_id = await _batch_under_way(cluster, "empty")
    broker.restart_empty()
    await _recovered(cluster, batch_id, timeout_s=240)
    assert await _resent(cluster, "members") == resent_before


@pytest.mark.broker_loss
async def test_broker_away_then_back_empty_with_topics_of_its_own(cluster: Cluster) -> None:
    """The broker gone long enough for every consumer to lose its group, then back empty, and
    two topics created by a client's first request with the broker's own partition count (4,
    not 8) before the services' keepers could: consumer groups once sat idle for 21 minutes
    with records unread and nothing logged. Now the batch issued after it settles, and so does
    everything before it."""
    broker = cluster.broker
    broker.kill()
    # the outage itself: past every session timeout (6 s); JINHUI_FAULT_BROKER_AWAY_S=600
    # replays the ten minutes an operator saw
    await asyncio.sleep(float(os.environ.get("JINHUI_FAULT_BROKER_AWAY_S", "20")))
    broker.start_empty()
    four = [MEMBERS_EVENTS, ENTITLEMENTS_EVENTS]
    assert await _with_partitions(broker.bootstrap_servers, four, 4) == {t: 4 for t in four}
    batch_id = await cluster.batch(f"away-{uuid.uuid4().hex[:6]}")
    await _recovered(cluster, batch_id, timeout_s=240)


async def _with_partitions(bootstrap: str, topics: list[str], count: int) -> dict[str, int]:
    """Each topic made with `count` partitions, as a broker does on a client's first request,
    whoever made it first (a keeper that did is undone): the partition counts it ends with."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        for _ in range(20):
            await ensure_topics(bootstrap, [Topic(t, count, "", "") for t in topics])
            found = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(topics)}
            wrong = [t for t in topics if found.get(t) != count]
            if not wrong:
                return found
            await admin.delete_topics(wrong)
        return found
    finally:
        await admin.close()


async def _resent(cluster: Cluster, service: str) -> float:
    """Rows re-sent since the process started (none counted yet: 0)."""
    resent = await cluster.metric(service, "jinhui_outbox_resent_total", service=service)
    return resent or 0.0
