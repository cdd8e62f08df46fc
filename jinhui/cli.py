"""`jinhui`: run the local stack, migrate databases, mint development tokens."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import webbrowser
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TimeElapsedColumn
from rich.table import Table

from jinhui.localstack import CONSOLE_PORT, SERVICES, Stack, start_console, start_service
from jinhui.progress import progress_bar
from shared.auth import Role, issue_token
from shared.settings import ServiceSettings

app = typer.Typer(help="Jinhui (晋惠): union benefits within the Shanxi 2025 ten measures.")
console = Console(width=None if sys.stdout.isatty() else 120)
STATE_DIR = Path(os.environ.get("JINHUI_HOME", ".jinhui"))


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@app.command()
def up(
    duration: Annotated[
        float | None, typer.Option("--for", help="Stop by itself after this many seconds")
    ] = None,
    phoenix: Annotated[
        bool,
        typer.Option(help="Send traces to Arize Phoenix on :6006 (started from .phoenix/)"),
    ] = False,
) -> None:
    """Start PostgreSQL, the broker and the four services; Ctrl-C stops everything."""
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stack: Stack | None = None
    if phoenix:
        _start_phoenix(processes)
    try:
        with console.status("starting PostgreSQL and the broker…"):
            stack = Stack.start(STATE_DIR)
            asyncio.run(stack.prepare())
        for service, port in SERVICES.items():
            processes[service] = start_service(stack, service, port, STATE_DIR / f"{service}.log")
        _wait_healthy(processes)
        processes["console"] = start_console(STATE_DIR / "console.log")
        _wait_console(processes["console"])
        _print_stack(stack)
        stack.describe(STATE_DIR / "stack.json")
        deadline = time.monotonic() + duration if duration else None
        while all(p.poll() is None for p in processes.values()):
            if deadline and time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for service, p in processes.items():
            if p.returncode is not None:
                console.print(
                    f"[red]{service} exited ({p.returncode}); see {STATE_DIR}/{service}.log"
                )
                raise typer.Exit(1)
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        _stop(processes)
        if stack:
            stack.stop()
        console.print("stopped.")


PHOENIX = Path(".phoenix/bin/phoenix")


def _start_phoenix(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    """Phoenix pulls SQLAlchemy 2.1, so it lives in its own virtualenv beside this one."""
    if not PHOENIX.exists():
        console.print(
            "[yellow]Phoenix is not installed: python3 -m venv .phoenix && "
            ".phoenix/bin/pip install arize-phoenix[/yellow]"
        )
        raise typer.Exit(1)
    log = open(STATE_DIR / "phoenix.log", "ab")  # noqa: SIM115
    processes["phoenix"] = subprocess.Popen([str(PHOENIX), "serve"], stdout=log, stderr=log)
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:6006"
    console.print("traces: http://127.0.0.1:6006 (Arize Phoenix)")


def _wait_healthy(processes: dict[str, subprocess.Popen[bytes]], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    pending = dict(SERVICES)
    with console.status("waiting for the services…"):
        while pending and time.monotonic() < deadline:
            for service, port in list(pending.items()):
                if service in processes and processes[service].poll() is not None:
                    raise RuntimeError(f"{service} exited; see {STATE_DIR}/{service}.log")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        del pending[service]
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
    if pending:
        raise RuntimeError(f"not ready after {timeout_s}s: {', '.join(pending)}")


def _wait_console(process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the console exited; see {STATE_DIR}/console.log")
        try:
            if httpx.get(f"http://127.0.0.1:{CONSOLE_PORT}/healthz", timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the console did not answer within {timeout_s}s")


def _print_stack(stack: Stack) -> None:
    table = Table(title="Jinhui is up")
    for column in ("service", "API", "OpenAPI page", "database"):
        table.add_column(column)
    for service, port in SERVICES.items():
        url = f"http://127.0.0.1:{port}"
        database = stack.database_urls[service].rsplit("/", 1)[-1].split("?")[0]
        table.add_row(service, url, f"{url}/docs", database)
    console.print(table)
    console.print(
        f"[bold]工作台 (web console): http://127.0.0.1:{CONSOLE_PORT}[/bold] — sign in by picking "
        "a role and a union"
    )
    console.print(f"Kafka-protocol broker: {stack.bootstrap_servers}")
    console.print("A token for the OpenAPI pages: jinhui token --role admin --org shanxi")
    console.print("Ctrl-C stops everything.")


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for p in processes.values():
        if p.poll() is None:
            p.terminate()
    for p in processes.values():
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@app.command()
def token(
    role: Annotated[list[Role], typer.Option("--role", help="Repeat for several roles")],
    org: Annotated[str, typer.Option(help="Org path, e.g. shanxi/taiyuan/xiaodian/bu-0001")],
    subject: Annotated[str, typer.Option(help="Who the token speaks for")] = "dev-user",
    hours: Annotated[int, typer.Option(help="Validity")] = 8,
) -> None:
    """Print a bearer token signed with this environment's JWT secret."""
    from datetime import timedelta

    settings = ServiceSettings()
    typer.echo(
        issue_token(settings, subject=subject, roles=role, org=org, ttl=timedelta(hours=hours))
    )


@app.command("dlq-open")
def dlq_open(
    sealed: Annotated[typer.FileBinaryRead, typer.Argument(help="The dead letter's value")],
) -> None:
    """Print a sealed dead letter (`dlq_value: sealed`, on hr.employees.v1.dlq) in clear, with
    the members service's keys (ID_ENCRYPTION_KEYS): for an authorised operator only."""
    from services.members.adapters.vault import vault_from_settings
    from services.members.settings import MembersSettings

    typer.echo(vault_from_settings(MembersSettings()).open(sealed.read().strip()))


@app.command()
def migrate(
    service: Annotated[str, typer.Argument(help="members, entitlements, disbursements, hardship")],
) -> None:
    """Bring one service's database (DATABASE_URL) to the newest revision."""
    from shared.db.migrate import migrate_database

    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service}")
    asyncio.run(migrate_database(service, ServiceSettings().database_url))
    console.print(f"{service}: migrated")


@app.command()
def asyncapi(
    check: Annotated[
        bool, typer.Option(help="Fail if the file differs instead of writing")
    ] = False,
) -> None:
    """Write docs/asyncapi.yaml from the event models."""
    from jinhui.asyncapi import DOCUMENT, render

    text = render()
    if check:
        if not DOCUMENT.exists() or DOCUMENT.read_text(encoding="utf-8") != text:
            console.print(f"[red]{DOCUMENT} is out of date: run `jinhui asyncapi`")
            raise typer.Exit(1)
        console.print(f"{DOCUMENT} matches the models")
        return
    DOCUMENT.parent.mkdir(exist_ok=True)
    DOCUMENT.write_text(text, encoding="utf-8")
    console.print(f"wrote {DOCUMENT}")


def _database_url(service: str, given: str | None) -> str:
    """The service's database: given, from the environment, or the running local stack's."""
    if given:
        return given
    env = os.environ.get(f"{service.upper()}_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if env:
        return env
    described = STATE_DIR / "stack.json"
    if described.exists():
        return str(json.loads(described.read_text())["database_urls"][service])
    raise typer.BadParameter("give --database-url, set DATABASE_URL, or start `jinhui up`")


def _local_broker() -> str:
    described = STATE_DIR / "stack.json"
    if described.exists():
        return str(json.loads(described.read_text())["bootstrap_servers"])
    raise typer.BadParameter(
        "give --bootstrap-servers, set KAFKA_BOOTSTRAP_SERVERS, or start `jinhui up`"
    )


@app.command()
def replay(
    service: Annotated[str, typer.Argument(help="entitlements")],
    database_url: Annotated[str | None, typer.Option(help="The service's database")] = None,
) -> None:
    """Rebuild a service's read tables from its event store, then swap them in (online)."""
    if service != "entitlements":
        raise typer.BadParameter("only entitlements keeps rebuildable read tables")

    from services.entitlements.adapters.tables import event_tables
    from services.entitlements.service_layer.replay import rebuild
    from shared.db.engine import create_engine, create_sessions

    async def run() -> None:
        engine = create_engine(_database_url(service, database_url))
        try:
            with progress_bar(console) as bar:
                task = bar.add_task("replaying events", total=None)
                report = await rebuild(
                    engine,
                    create_sessions(engine),
                    event_tables,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        finally:
            await engine.dispose()
        console.print(
            f"{report.events} events in {report.seconds:.1f} s "
            f"({report.events_per_second:,.0f}/s), {report.caught_up} during the swap"
        )

    asyncio.run(run())


@app.command("outbox-republish")
def outbox_republish(
    service: Annotated[str, typer.Argument(help="members, entitlements, disbursements, hardship")],
    since_days: Annotated[float, typer.Option("--since-days", help="Published this recently")],
    topic: Annotated[str | None, typer.Option(help="Only this topic")] = None,
    database_url: Annotated[str | None, typer.Option(help="The service's database")] = None,
) -> None:
    """Publish again what a service published recently (e.g. `disbursements --topic
    payroll.benefits.v1 --since-days 30` for a payroll system that was away longer than the
    topic keeps messages). Its running relay sends the rows, under their original ids."""
    from datetime import timedelta
    from importlib import import_module

    from shared.db.engine import create_engine, create_sessions
    from shared.eventstore.relay import mark_for_republishing

    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service}")
    tables = import_module(f"services.{service}.adapters.tables").event_tables

    async def run() -> int:
        engine = create_engine(_database_url(service, database_url))
        try:
            return await mark_for_republishing(
                service, create_sessions(engine), tables, timedelta(days=since_days), topic
            )
        finally:
            await engine.dispose()

    count = asyncio.run(run())
    console.print(f"{count} rows will be published again by {service}'s relay")


@app.command("payroll-simulator")
def payroll_simulator(
    failed_share: Annotated[
        float, typer.Option(min=0, max=1, help="Share of entries whose payment fails")
    ] = 0.03,
    bootstrap_servers: Annotated[
        str | None,
        typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS", help="Default: the running `jinhui up`"),
    ] = None,
) -> None:
    """Answer payroll.benefits.v1 as a pay run would (most paid, a few failed), for a local
    stack: see README, "For payroll integrators"."""
    from jinhui.payroll import PayrollSimulator, by_share

    broker = bootstrap_servers or _local_broker()
    simulator = PayrollSimulator(broker, decide=by_share(failed_share))
    console.print(f"answering payroll entries on {broker}; Ctrl-C stops")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(simulator.run())


# Long on purpose: a command's options and its printed answer read together.
@app.command("what-if")
def what_if_command(
    draft: Annotated[Path, typer.Option(help="The draft policy (YAML, like policies/*.yaml)")],
    year: Annotated[int, typer.Option(help="The past year to decide again")],
    union: Annotated[str | None, typer.Option(help="Only this subtree")] = None,
    out: Annotated[Path | None, typer.Option(help="CSV of every changed decision")] = None,
    database_url: Annotated[str | None, typer.Option(help="Entitlements' database")] = None,
) -> None:
    """Decide a past year again under a draft policy, saving nothing; print what changes."""
    import yaml

    from services.entitlements.adapters.tables import event_tables
    from services.entitlements.domain.policy import PolicyVersion
    from services.entitlements.entrypoints.foresight_api import differences_csv
    from services.entitlements.service_layer.what_if import what_if
    from shared.clock import SystemClock
    from shared.db.engine import create_engine, create_sessions
    from shared.eventstore.store import EventStore
    from shared.money import yuan_text

    policy = PolicyVersion.model_validate(yaml.safe_load(draft.read_text(encoding="utf-8")))

    async def run() -> None:
        engine = create_engine(_database_url("entitlements", database_url))
        try:
            with Progress(SpinnerColumn(), "{task.description}", TimeElapsedColumn()) as bar:
                task = bar.add_task("deciding again", total=None)
                async with create_sessions(engine)() as session:
                    store = EventStore(
                        session, event_tables, source="/jinhui/what-if", clock=SystemClock()
                    )
                    result = await what_if(
                        store,
                        policy,
                        year,
                        union=union,
                        progress=lambda n: bar.update(task, description=f"{n:,} requests"),
                    )
        finally:
            await engine.dispose()
        console.print(
            f"{result.requests:,} requests of {year} under {policy.version}: "
            f"{len(result.differences):,} decided otherwise"
        )
        for (org, benefit), t in sorted(result.totals.items()):
            if t.fen_before != t.fen_after:
                console.print(
                    f"  {org} {benefit}: {yuan_text(t.fen_before)} → {yuan_text(t.fen_after)}"
                )
        if out:
            out.write_bytes(differences_csv(result).body)
            console.print(f"every change: {out}")

    asyncio.run(run())


@app.command()
def demo(
    members: Annotated[int, typer.Option(help="Members of the base union")] = 1000,
    year: Annotated[int, typer.Option(help="The business year to live through")] = 2026,
    out: Annotated[Path | None, typer.Option(help="Where to write the HTML report")] = None,
    open_report: Annotated[bool, typer.Option("--open/--no-open", help="Open it")] = True,
    seed: Annotated[int, typer.Option(help="Random seed")] = 11643,
) -> None:
    """Live through a year of one base union on the local stack, then report."""
    from jinhui.demo.command import run_demo

    path = run_demo(console, STATE_DIR, members=members, year=year, out=out, seed=seed)
    if open_report:
        webbrowser.open(path.resolve().as_uri())


def _register_service_commands() -> None:
    from services.members.entrypoints.cli import members_app, orgs_app

    app.add_typer(members_app, name="members")
    app.add_typer(orgs_app, name="orgs")


_register_service_commands()

if __name__ == "__main__":
    app()
