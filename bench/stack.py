"""The bench's stack: embedded PostgreSQL, the Tansu broker and the four services, each in its
own uvicorn process as deployed; a roster imported through the API."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import func, select, text

from bench.roster import UNION, roster_csv
from jinhui.localstack import SERVICES, Stack, free_port, start_service
from services.disbursements.adapters.tables import member_directory
from services.entitlements.adapters.projections import LIVE
from services.members.entrypoints.cli import chunks
from shared.auth import Role, issue_token
from shared.db.engine import asyncpg_dsn, create_engine
from shared.settings import ServiceSettings


def token(role: Role, org: str = UNION) -> dict[str, str]:
    value = issue_token(ServiceSettings(environment="test"), subject="bench", roles=[role], org=org)
    return {"Authorization": f"Bearer {value}"}


@dataclass
class Running:
    stack: Stack
    folder: Path
    ports: dict[str, int]
    processes: dict[str, subprocess.Popen[bytes]]
    peak_rss_mb: dict[str, float] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def replicas(self, service: str) -> list[str]:
        """The service's processes: the first under its own name, more as `<service>-<n>`."""
        more = [name for name in self.processes if name.startswith(f"{service}-")]
        return [service, *sorted(more, key=lambda name: int(name.rsplit("-", 1)[1]))]

    def urls(self, service: str) -> list[str]:
        return [self.url(name) for name in self.replicas(service)]

    def client(self, service: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url(service), timeout=600)

    def sample_rss(self) -> None:
        """Each service's resident memory now, keeping the highest seen."""
        for service, process in self.processes.items():
            mb = _rss_mb(process.pid)
            self.peak_rss_mb[service] = max(self.peak_rss_mb.get(service, 0.0), mb)

    async def database_mb(self) -> dict[str, float]:
        sizes = {}
        for service in SERVICES:
            engine = create_engine(self.stack.database_urls[service])
            async with engine.connect() as conn:
                size = await conn.scalar(text("SELECT pg_database_size(current_database())"))
            await engine.dispose()
            sizes[service] = int(size or 0) / 2**20
        return sizes


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# The birthday scan catches up on a new roster's birthdays of the year: for 100,000 members a
# load of its own that would run under every figure after the import. It is held off.
HELD_OFF = {"BIRTHDAY_SCAN_INTERVAL_S": "7200"}


@asynccontextmanager
async def running(folder: Path, *, max_connections: int | None = None) -> AsyncIterator[Running]:
    """`max_connections`: the embedded server's (100 by default), for a run that starts more
    service processes than one of each: every process keeps a pool of its own."""
    os.environ.update(HELD_OFF)
    stack = Stack.start(folder, database_prefix="jinhui_bench")
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        if max_connections is not None and stack.postgres is not None:
            connection = await asyncpg.connect(asyncpg_dsn(stack.server_url))
            await connection.execute(f"ALTER SYSTEM SET max_connections = {int(max_connections)}")
            await connection.close()
            stack.postgres.halt()
            stack.postgres.resume()
        await stack.prepare()
        ports = {s: free_port() for s in SERVICES}
        processes = {s: start_service(stack, s, p, folder / f"{s}.log") for s, p in ports.items()}
        run = Running(stack, folder, ports, processes)
        await _ready(run, list(SERVICES))
        yield run
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(10)
        stack.stop()


async def _ready(run: Running, names: list[str]) -> None:
    for name in names:
        async with run.client(name) as client:
            while True:
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)


async def scale(run: Running, service: str, replicas: int) -> None:
    """Start or stop processes of `service` until it has `replicas`, as a Deployment scaled
    out would: each on its own port, all on one database and in the same consumer groups,
    sharing the topics' partitions. Back when every one of them is ready (its consumers hold
    their partitions) and the stack is quiet again."""
    names = run.replicas(service)
    while len(names) < replicas:
        name = f"{service}-{len(names) + 1}"
        run.ports[name] = free_port()
        run.processes[name] = start_service(
            run.stack, service, run.ports[name], run.folder / f"{name}.log"
        )
        names.append(name)
    for name in names[replicas:]:
        process = run.processes.pop(name)
        del run.ports[name]
        process.terminate()
        process.wait(60)
    await _ready(run, names[:replicas])
    await quiet(run)


async def known_downstream(run: Running) -> int:
    """Members known to both services that decide a batch."""
    counts = []
    for service, table in (("disbursements", member_directory), ("entitlements", LIVE.profiles)):
        engine = create_engine(run.stack.database_urls[service])
        async with engine.connect() as conn:
            counts.append(int(await conn.scalar(select(func.count()).select_from(table)) or 0))
        await engine.dispose()
    return min(counts)


async def import_roster(run: Running, members: int, first_id: int, *, wait: bool = True) -> float:
    """Seconds from the first chunk sent until both deciding services know every member."""
    before = await known_downstream(run)
    started = time.perf_counter()
    async with run.client("members") as client:
        for first_row, body in chunks(roster_csv(members, first_id)):
            response = await client.post(
                "/v1/members/imports",
                params={"union": UNION, "first_row": first_row},
                content=body.encode(),
                headers={**token(Role.HR_INTEGRATION), "Content-Type": "text/csv"},
            )
            response.raise_for_status()
            run.sample_rss()
    while wait and await known_downstream(run) < before + members:
        run.sample_rss()
        await asyncio.sleep(0.5)
    return time.perf_counter() - started


async def quiet(run: Running, idle_share: float = 0.1, *, at_most_s: float = 900) -> None:
    """Until every service is idle (nothing left to publish and no consumer catching up on
    what the last step sent, such as the hardship service reading a roster's hundred thousand
    registrations), so one figure does not pay for the last. Idle is each service under a
    tenth of a core for two seconds running: their housekeeping together takes about that."""
    idle_in_a_row = 0
    deadline = time.monotonic() + at_most_s
    while idle_in_a_row < 2:
        if time.monotonic() > deadline:
            print(f"  the services were not idle after {at_most_s:.0f} s; going on", flush=True)
            return
        before = {s: _cpu_s(p.pid) for s, p in run.processes.items()}
        await asyncio.sleep(1)
        busiest = max(_cpu_s(p.pid) - before[s] for s, p in run.processes.items())
        idle_in_a_row = idle_in_a_row + 1 if busiest < idle_share else 0
        run.sample_rss()


def _cpu_s(pid: int) -> float:
    """CPU seconds the process has used (user and system)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(run: Running) -> dict[str, float]:
    """CPU seconds used so far by each part of the machine: each service (its replicas
    together), PostgreSQL (every `postgres` process), the bench itself, and the rest (the
    broker among it). Two readings apart say where the cores went in between."""
    services = {p.pid: name.split("-")[0] for name, p in run.processes.items()}
    parts: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        pid = int(stat.parent.name)
        try:
            comm = stat.read_text().split("(", 1)[1].split(")", 1)[0]
        except (OSError, IndexError):
            continue
        part = services.get(pid) or (
            "PostgreSQL" if comm == "postgres" else "bench" if pid == os.getpid() else "other"
        )
        parts[part] = parts.get(part, 0.0) + _cpu_s(pid)
    return parts
