"""A cluster for fault tests: its own PostgreSQL and broker, and the four services each in its
own process as deployed, so that a test can kill -9 a service, stop the database or freeze and
empty the broker while a batch runs, then check that nothing was lost, doubled or left stuck."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bench.roster import UNION, roster_csv
from jinhui.localstack import SERVICES, LocalBroker, Stack, free_port, start_service
from services.disbursements.adapters.repository import kept_batch_counts
from services.disbursements.adapters.tables import disbursements, member_directory
from services.entitlements.adapters.projections import LIVE
from services.entitlements.adapters.tables import pending_requests
from services.members.entrypoints.cli import chunks
from shared.auth import Role, issue_token
from shared.kafka.topics import PAYROLL_BENEFITS
from shared.settings import ServiceSettings, to_async_url

MEMBERS = 600
# Faster detection than production defaults, so a fault and its recovery fit in seconds.
FAST = {
    "ENVIRONMENT": "test",
    "UNHEALTHY_AFTER_S": "3",
    "KAFKA_TOPIC_CHECK_INTERVAL_S": "2",
    "KAFKA_READ_THROUGH_INTERVAL_S": "1",
    "KAFKA_SESSION_TIMEOUT_MS": "6000",
    "LOG_LEVEL": "WARNING",
}


def bearer(role: Role) -> dict[str, str]:
    value = issue_token(
        ServiceSettings(environment="test"), subject="faults", roles=[role], org=UNION
    )
    return {"Authorization": f"Bearer {value}"}


class CommandBroker:
    """A broker the tests do not run themselves (Apache Kafka, say in a container): each fault
    is a command the operator names — `JINHUI_FAULT_BROKER_PAUSE`, `_UNPAUSE`, `_KILL` and
    `_START_EMPTY` (e.g. `docker pause kafka`; `_START_EMPTY` starts it with no data)."""

    KINDS = ("PAUSE", "UNPAUSE", "KILL", "START_EMPTY")

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers

    @classmethod
    def configured(cls) -> bool:
        return all(os.environ.get(f"JINHUI_FAULT_BROKER_{k}") for k in cls.KINDS)

    def _run(self, kind: str) -> None:
        subprocess.run(
            os.environ[f"JINHUI_FAULT_BROKER_{kind}"], shell=True, check=True, timeout=300
        )

    def pause(self) -> None:
        self._run("PAUSE")

    def unpause(self) -> None:
        self._run("UNPAUSE")

    def kill(self) -> None:
        self._run("KILL")

    def start_empty(self) -> None:
        self._run("START_EMPTY")
        host, _, port = self.bootstrap_servers.split(",")[0].rpartition(":")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection((host, int(port)), 1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the broker did not listen at {self.bootstrap_servers} in 120 s")

    def restart_empty(self) -> None:
        self.kill()
        self.start_empty()


@dataclass
class Cluster:
    stack: Stack
    folder: Path
    ports: dict[str, int]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    engines: dict[str, AsyncEngine] = field(default_factory=dict)

    def start(self, service: str) -> None:
        os.environ.update(FAST)
        self.processes[service] = start_service(
            self.stack, service, self.ports[service], self.folder / f"{service}.log"
        )

    def kill_9(self, service: str) -> None:
        process = self.processes[service]
        process.send_signal(signal.SIGKILL)
        process.wait()

    async def ready(self, service: str, timeout_s: float = 120, probe: str = "/readyz") -> None:
        """Ready (`/readyz`: consumers caught up), or with `probe="/healthz"` merely serving."""
        deadline = time.monotonic() + timeout_s
        said = ""
        while time.monotonic() < deadline:
            try:
                answer = await self.clients[service].get(probe)
                if answer.status_code == 200:
                    return
                said = answer.text
            except httpx.HTTPError as exc:
                said = repr(exc)
            await asyncio.sleep(0.25)
        raise AssertionError(
            f"{service} not ready in {timeout_s}s: {said}\n{self.log_tail(service)}"
        )

    async def readiness(self, service: str) -> int | None:
        try:
            return (await self.clients[service].get("/readyz", timeout=5)).status_code
        except httpx.HTTPError:
            return None

    async def metric(self, of: str, name: str, **labels: str) -> float | None:
        """One sample of service `of`'s /metrics; None while it has none."""
        text = (await self.clients[of].get("/metrics")).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    return float(sample.value)
        return None

    @property
    def broker(self) -> LocalBroker | CommandBroker:
        if self.stack.broker is not None:
            return self.stack.broker
        return CommandBroker(self.stack.bootstrap_servers)

    def log_tail(self, service: str) -> str:
        return (self.folder / f"{service}.log").read_text(errors="replace")[-3000:]

    async def batch(self, key: str, amount_fen: int = 30000) -> str:
        created = await self.clients["disbursements"].post(
            "/v1/disbursement-batches",
            json={
                "batch_key": key,
                "union": UNION,
                "benefit": "holiday_gift",
                "amount_fen": amount_fen,
                "business_date": date.today().isoformat(),
            },
            headers=bearer(Role.FINANCE_OFFICER),
        )
        assert created.status_code == 202, created.text
        return str(created.json()["batch_id"])

    async def scalar(self, service: str, query: Any) -> Any:
        async with self.engines[service].connect() as conn:
            return await conn.scalar(query)


async def _known_downstream(cluster: Cluster) -> int:
    directory = await cluster.scalar(
        "disbursements", select(func.count()).select_from(member_directory)
    )
    profiles = await cluster.scalar("entitlements", select(func.count()).select_from(LIVE.profiles))
    return min(directory or 0, profiles or 0)


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    folder = tmp_path_factory.mktemp("faults")
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", *FAST)}
    # its own embedded server and broker, whatever the suite uses — or an outside broker whose
    # faults are commands (CommandBroker)
    for k in (
        "DATABASE_URL",
        *(() if CommandBroker.configured() else ("KAFKA_BOOTSTRAP_SERVERS",)),
    ):
        os.environ.pop(k, None)
    stack = Stack.start(folder, database_prefix="jinhui_faults")
    cluster = Cluster(stack, folder, {s: free_port() for s in SERVICES})
    try:
        await stack.prepare()
        for service in SERVICES:
            cluster.start(service)
            cluster.clients[service] = httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{cluster.ports[service]}", timeout=30
            )
            cluster.engines[service] = create_async_engine(
                to_async_url(stack.database_urls[service]), poolclass=NullPool
            )
        for service in SERVICES:
            await cluster.ready(service)
        for first_row, body in chunks(roster_csv(MEMBERS, 700_000)):
            response = await cluster.clients["members"].post(
                "/v1/members/imports",
                params={"union": UNION, "first_row": first_row},
                content=body.encode(),
                headers={**bearer(Role.HR_INTEGRATION), "Content-Type": "text/csv"},
            )
            assert response.status_code == 200, response.text
        await eventually(lambda: _at_least(_known_downstream(cluster), MEMBERS), 120)
        yield cluster
    finally:
        for process in cluster.processes.values():
            process.terminate()
        for process in cluster.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        for client in cluster.clients.values():
            await client.aclose()
        for engine in cluster.engines.values():
            await engine.dispose()
        stack.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


async def _at_least(count: Any, wanted: int) -> bool:
    return bool(await count >= wanted)


async def eventually(probe: Callable[[], Any], timeout_s: float = 90) -> Any:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.5)
    raise AssertionError(f"condition not met within {timeout_s}s (last value: {last!r})")


# --- what must hold after any fault -------------------------------------------------------------


async def assert_settled(cluster: Cluster, batch_id: str, timeout_s: float = 150) -> Counter[str]:
    """Every line decided and final, nothing pending anywhere, every outbox drained, the
    ledgers equal to what was issued, and payroll told once per issued line."""

    async def lines() -> Counter[str] | None:
        rows = await _rows(cluster, batch_id)
        statuses = Counter(status for _, status, _ in rows)
        final = len(rows) == MEMBERS and set(statuses) <= {"issued", "rejected"}
        return statuses if final else None

    statuses = await eventually(lines, timeout_s)
    # the counts the report reads, kept by the transactions the faults interrupted
    assert await _kept_counts(cluster, batch_id) == dict(statuses)
    assert await eventually(lambda: _drained(cluster), 60)
    assert (
        await cluster.scalar("entitlements", select(func.count()).select_from(pending_requests))
        == 0
    )
    await eventually(lambda: _ledgers_equal_issued(cluster), 60)
    await _payroll_once(cluster, batch_id)
    return statuses


async def unfinished(cluster: Cluster, batch_id: str) -> int:
    """Lines of the batch not yet final (or not yet opened): the fault must hit some."""
    rows = await _rows(cluster, batch_id)
    return MEMBERS - sum(status in ("issued", "rejected") for _, status, _ in rows)


async def _rows(cluster: Cluster, batch_id: str) -> list[Any]:
    async with cluster.engines["disbursements"].connect() as conn:
        d = disbursements.c
        return list(
            (
                await conn.execute(
                    select(d.disbursement_id, d.status, d.member_id).where(d.batch_id == batch_id)
                )
            ).all()
        )


async def _kept_counts(cluster: Cluster, batch_id: str) -> dict[str, int]:
    async with cluster.engines["disbursements"].connect() as conn:
        return {status: n for status, (n, _) in (await kept_batch_counts(conn, batch_id)).items()}


async def _drained(cluster: Cluster) -> bool:
    for service in SERVICES:
        waiting = await cluster.scalar(
            service, text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        )
        if waiting:
            return False
    return True


async def _ledgers_equal_issued(cluster: Cluster) -> bool:
    async with cluster.engines["disbursements"].connect() as conn:
        d = disbursements.c
        issued = dict(
            (
                await conn.execute(
                    select(d.member_id, func.sum(d.amount_fen))
                    .where(d.status == "issued", d.benefit == "holiday_gift")
                    .group_by(d.member_id)
                )
            ).all()
        )
    async with cluster.engines["entitlements"].connect() as conn:
        b = LIVE.balances.c
        ledgers = {
            m: (used, reserved)
            for m, used, reserved in (
                await conn.execute(
                    select(b.member_id, b.used_fen, b.reserved_fen).where(
                        b.benefit == "holiday_gift"
                    )
                )
            ).all()
        }
    return all(ledgers.get(m, (0, 0)) == (int(total), 0) for m, total in issued.items())


async def _payroll_once(cluster: Cluster, batch_id: str) -> None:
    issued = {i for i, status, _ in await _rows(cluster, batch_id) if status == "issued"}
    seen: dict[str, set[str]] = {}

    async def complete() -> bool:
        seen.clear()
        for record in await _whole_topic(cluster.stack.bootstrap_servers, PAYROLL_BENEFITS):
            body = json.loads(record.value)
            if body["disbursement_id"] in issued and body["entry_id"].endswith("/issued"):
                ce_id = dict(record.headers)["ce_id"].decode()
                seen.setdefault(body["disbursement_id"], set()).add(ce_id)
        return set(seen) == issued

    await eventually(complete, 60)
    doubled = {k: v for k, v in seen.items() if len(v) != 1}
    assert doubled == {}, "an issue reached payroll under two ids"


async def _whole_topic(bootstrap: str, topic: str) -> list[Any]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[Any] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=500)
            for got in batch.values():
                records.extend(got)
        return records
    finally:
        await consumer.stop()
