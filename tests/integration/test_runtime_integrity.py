"""Nothing lost, nothing merged, nothing stuck: what happens to each message, to HR input that
breaks integrity, and to the parts that keep a service running when its dependencies fail."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError, UnknownError
from alembic.script import ScriptDirectory
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import TimeoutError as PoolTimeout

from jinhui.localstack import Stack
from services.disbursements.adapters.tables import batch_counts, disbursements
from services.members.contracts import ChildBirthRegistered
from services.members.domain.hr import EmployeeDetailsChanged, EmployeeHired, EmployeeLeft
from services.members.domain.identity import compose_id_number
from services.members.service_layer.hr_conflicts import expire_parked
from shared.auth import Role
from shared.db.engine import create_engine, ensure_database, with_database
from shared.db.migrate import alembic_config, migrate_database, upgrade
from shared.envelope import Envelope
from shared.events import DomainEvent
from shared.eventstore.relay import OutboxRelay
from shared.eventstore.retention import prune
from shared.kafka.consumer.runner import JOIN_LIMIT_S
from shared.kafka.topics import (
    DISBURSEMENTS_EVENTS,
    HR_EMPLOYEES,
    MEMBERS_EVENTS,
    PAYROLL_BENEFITS,
    Topic,
    dlq,
    ensure_topics,
    marker_topic,
)
from shared.outages import is_outage
from shared.supervisor import Supervisor
from shared.tasks import stop
from shared.uow import UnitOfWork
from tests.integration.conftest import HR, OFFICER, Infra, Suite, register
from tests.integration.test_disbursements import ask, member_known, settled
from tests.support import bearer, eventually, header, read_topic, topic_ends

HR_SOURCE = "hr://integrity-test"
PROVINCE_HR = bearer(Role.HR_INTEGRATION, org="shanxi")
UNION = "shanxi/taiyuan/xiaodian/bu-0001"


@pytest.fixture
async def producer(suite: Suite) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=suite.members.runtime.settings.kafka_bootstrap_servers)
    await p.start()
    yield p
    await p.stop()


async def send(
    producer: AIOKafkaProducer,
    topic: str,
    event: DomainEvent,
    *,
    key: str | None = None,
    ce_id: str | None = None,
    type_: str | None = None,
    version: int | None = None,
) -> str:
    envelope = Envelope.wrap(
        event,
        source=HR_SOURCE,
        time=datetime.now(UTC),
        partition_key=key,
        event_id=ce_id or str(uuid.uuid4()),
    )
    k, value, headers = envelope.to_kafka()
    if type_ or version:
        headers = [(n, type_.encode() if n == "ce_type" and type_ else v) for n, v in headers]
        headers = [
            (n, str(version).encode() if n == "ce_schemaversion" and version else v)
            for n, v in headers
        ]
    await producer.send_and_wait(topic, value, key=k, headers=headers)
    return envelope.id


async def dead_letters(suite: Suite, topic: str, ids: set[str]) -> dict[str, Any]:
    records = await read_topic(
        suite.members.runtime.settings.kafka_bootstrap_servers,
        dlq(topic),
        until=lambda rs: ids <= {header(r, "ce_id") for r in rs},
    )
    return {header(r, "ce_id"): r for r in records if header(r, "ce_id") in ids}


def hire(number: str, id_number: str, event_id: str | None = None, **kw: Any) -> EmployeeHired:
    return EmployeeHired(
        hr_event_id=event_id or f"h-{uuid.uuid4().hex[:12]}",
        employee_number=number,
        base_union=UNION,
        name="员工",
        id_number=id_number,
        hire_date=date(2026, 1, 5),
        **kw,
    )


# --- every message is applied, skipped on purpose, parked or dead-lettered ----------------------


async def test_unknown_types_new_versions_wrong_keys_and_long_ids_are_dead_lettered(
    suite: Suite, producer: AIOKafkaProducer
) -> None:
    number = f"E-{uuid.uuid4().hex[:8]}"
    event = hire(number, compose_id_number("140105", date(1990, 1, 1), 901))
    typo = await send(producer, HR_EMPLOYEES, event, key=number, type_="jinhui.hr.EmployeeHird")
    future = await send(producer, HR_EMPLOYEES, event, key=number, version=99)
    wrong_key = await send(producer, HR_EMPLOYEES, event, key="E-SOMEONE-ELSE")
    long_id = await send(producer, HR_EMPLOYEES, event, key=number, ce_id="x" * 201)
    found = await dead_letters(suite, HR_EMPLOYEES, {typo, future, wrong_key, long_id})
    assert header(found[typo], "dlq_reason") == "unknown-type"
    assert header(found[future], "dlq_reason") == "invalid"
    assert "schema version 99" in (header(found[future], "dlq_detail") or "")
    assert header(found[wrong_key], "dlq_reason") == "key-mismatch"
    assert header(found[long_id], "dlq_reason") == "undecodable"
    parked = (await suite.members.client.get("/v1/hr/parked", headers=PROVINCE_HR)).json()
    assert number not in {p["employee_number"] for p in parked}  # none of them was applied


async def test_a_member_fact_before_the_registration_is_kept_then_applied(suite: Suite) -> None:
    from services.entitlements.service_layer.handlers import note_member_event
    from services.entitlements.service_layer.views import read_profile
    from services.members.contracts import MemberRegistered

    runtime = suite.entitlements.runtime
    member_id = f"m-{uuid.uuid4().hex[:20]}"
    birth = ChildBirthRegistered(
        member_id=member_id,
        child_id=f"c-{uuid.uuid4().hex[:8]}",
        birth_date=date(2026, 2, 1),
        birth_order=1,
        within_policy=True,
    )
    registered = MemberRegistered(
        member_id=member_id,
        base_union=UNION,
        name="先到",
        birth_date=date(1992, 2, 2),
        join_date=date(2020, 1, 1),
    )
    for event, source in ((birth, "early-1"), (registered, "early-2")):
        async with UnitOfWork(runtime) as uow:
            await note_member_event(runtime.context, uow, event, f"{source}-{member_id}")
    async with runtime.sessions() as session:
        profile = await read_profile(runtime.event_store(session), member_id)
    assert profile is not None and birth.child_id in profile.children


# --- HR input integrity -------------------------------------------------------------------------


async def test_a_phone_change_applies_from_hr_and_the_api(
    suite: Suite, producer: AIOKafkaProducer
) -> None:
    number = f"E-{uuid.uuid4().hex[:8]}"
    await send(
        producer,
        HR_EMPLOYEES,
        hire(number, compose_id_number("140105", date(1988, 8, 8), 902)),
        key=number,
    )

    async def member() -> dict[str, Any] | None:
        found = await suite.members.client.get(
            "/v1/members", params={"employee_number": number}, headers=HR
        )
        items = found.json()["items"]
        return items[0] if items else None

    member_id = (await eventually(member))["member_id"]
    change = EmployeeDetailsChanged(
        hr_event_id=f"p-{number}", employee_number=number, effective_date=date(2026, 3, 1),
        phone="13912345678",
    )  # fmt: skip
    await send(producer, HR_EMPLOYEES, change, key=number)

    async def phone_masked() -> str | None:
        view = await suite.members.client.get(f"/v1/members/{member_id}", headers=OFFICER)
        value = view.json().get("phone")
        return value if value and value.endswith("5678") else None

    await eventually(phone_masked)
    patched = await suite.members.client.patch(
        f"/v1/members/{member_id}", json={"phone": "13700001111"}, headers=HR
    )
    assert patched.status_code == 200, patched.text


async def test_one_id_number_for_two_employees_of_one_source_is_never_merged(
    suite: Suite, producer: AIOKafkaProducer
) -> None:
    id_number = compose_id_number("140105", date(1985, 5, 5), 903)
    first, second = f"E-{uuid.uuid4().hex[:6]}", f"E-{uuid.uuid4().hex[:6]}"
    await send(producer, HR_EMPLOYEES, hire(first, id_number), key=first)

    async def hired() -> bool:  # the two keys travel on different partitions: first things first
        found = await suite.members.client.get(
            "/v1/members", params={"employee_number": first}, headers=HR
        )
        return bool(found.json()["items"])

    await eventually(hired)
    reused = hire(second, id_number)
    await send(producer, HR_EMPLOYEES, reused, key=second)
    left = EmployeeLeft(
        hr_event_id=f"l-{second}", employee_number=second, left_on=date(2026, 3, 1), reason="left"
    )
    await send(producer, HR_EMPLOYEES, left, key=second)

    async def conflict() -> dict[str, Any] | None:
        listed = await suite.members.client.get("/v1/hr/conflicts", headers=HR)
        assert listed.status_code == 200, listed.text
        return next((c for c in listed.json() if c["employee_number"] == second), None)

    found = await eventually(conflict)
    assert (found["kind"], found["existing_employee_number"]) == ("id-number-in-use", first)
    assert id_number not in str(found)
    members = await suite.members.client.get(
        "/v1/members", params={"employee_number": first}, headers=HR
    )
    assert members.json()["items"][0]["status"] == "active"  # E-second's leaving changed nothing
    metrics = (await suite.members.client.get("/metrics")).text
    assert 'jinhui_hr_conflicts_total{kind="id-number-in-use"}' in metrics

    # The leaving of an employee never hired waits, then goes to the list too.
    async def parked() -> bool:
        listed = (await suite.members.client.get("/v1/hr/parked", headers=PROVINCE_HR)).json()
        return any(p["employee_number"] == second for p in listed)

    await eventually(parked)
    runtime = suite.members.runtime
    async with UnitOfWork(runtime) as uow:
        assert await expire_parked(runtime.context, uow, timedelta(0)) >= 1
    listed = await suite.members.client.get("/v1/hr/conflicts", headers=PROVINCE_HR)
    never = [c for c in listed.json() if c["employee_number"] == second]
    assert [c["kind"] for c in never] == ["id-number-in-use", "never-hired"]
    unions_hr = await suite.members.client.get("/v1/hr/conflicts", headers=HR)
    assert never[1]["id"] not in {c["id"] for c in unions_hr.json()}  # it names no union
    resolved = await suite.members.client.post(
        f"/v1/hr/conflicts/{never[1]['id']}/resolve",
        json={"resolution": "HR 已更正工号"},
        headers=PROVINCE_HR,
    )
    assert resolved.status_code == 200
    assert never[1]["id"] not in {c["id"] for c in resolved.json()}


# --- payroll contract ---------------------------------------------------------------------------


async def test_payroll_entries_say_what_they_are_and_a_reversal_names_its_issue(
    suite: Suite,
) -> None:
    member_id = await member_known(suite, employee_number="E-PAY-1")
    issued = await settled(suite, (await ask(suite, member_id, "holiday_gift", 1000))[
        "disbursement_id"
    ])  # fmt: skip
    assert issued["status"] == "issued"
    reversed_ = await suite.disbursements.client.post(
        f"/v1/disbursements/{issued['disbursement_id']}/reverse",
        json={"reason": "发错了"},
        headers=OFFICER,
    )
    assert reversed_.status_code == 200
    did = issued["disbursement_id"]

    def both(records: list[Any]) -> bool:
        return sum(did.encode() in r.value for r in records) >= 2

    records = await read_topic(
        suite.members.runtime.settings.kafka_bootstrap_servers, PAYROLL_BENEFITS, until=both
    )
    import json

    mine = [(header(r, "ce_id"), json.loads(r.value)) for r in records if did.encode() in r.value]
    (issue_id, issue), (reversal_id, reversal) = mine[:2]
    assert issue_id != reversal_id
    assert issue["entry_id"] == f"{did}/issued" and reversal["entry_id"] == f"{did}/reversed"
    assert reversal["reverses_entry_id"] == issue["entry_id"]
    assert issue["employee_number"] == "E-PAY-1" and issue["base_union"] == UNION
    assert "employee_number_source" in issue


# --- the runtime heals itself -------------------------------------------------------------------


def test_outages_are_told_apart_from_bugs() -> None:
    assert is_outage(asyncpg.exceptions.CannotConnectNowError("the database system is starting"))
    assert is_outage(PoolTimeout("QueuePool limit reached"))
    assert is_outage(ConnectionRefusedError())
    assert is_outage(UnknownError())  # a broker recreating its topics after it came back empty
    assert is_outage(KafkaTimeoutError())
    assert not is_outage(MessageSizeTooLargeError())  # never this record: dead-lettered instead
    assert not is_outage(ValueError("a bug"))
    assert not is_outage(KeyError("a bug"))


async def test_the_relay_waits_out_a_database_outage_and_readiness_tells(infra: Infra) -> None:
    failures = [asyncpg.exceptions.CannotConnectNowError("starting"), PoolTimeout("pool")] * 2

    class Flaky:
        """A session factory that fails like a stopped database, then works."""

        def __call__(self) -> Any:
            if failures:
                raise failures.pop(0)
            return infra.sessions()

    supervisor = Supervisor("test", unhealthy_after_s=0.05)
    relay = OutboxRelay(
        service="test-outage",
        sessions=Flaky(),  # type: ignore[arg-type]
        tables=infra.tables,
        producer=_NoProducer(),  # type: ignore[arg-type]
        poll_interval_s=0.01,
    )
    relay.health = supervisor.handle("relay")
    task = supervisor.start("relay", relay.run)
    await asyncio.sleep(0.3)
    assert not task.done()  # the outage never ended the relay
    await eventually(lambda: asyncio.sleep(0, result=not failures))
    await eventually(lambda: asyncio.sleep(0, result=relay.health.failing_since is None))
    assert supervisor.problems() == {}
    assert await stop(task, 60)


async def test_a_crashing_task_is_restarted_and_readiness_turns_red() -> None:
    runs = []

    async def buggy() -> None:
        runs.append(1)
        raise ValueError("a bug")

    supervisor = Supervisor("test", unhealthy_after_s=0.3)
    task = supervisor.start("buggy", buggy)
    await asyncio.sleep(0.8)
    assert len(runs) >= 2  # restarted after each failure
    assert "buggy" in supervisor.problems()
    assert await stop(task, 60)


class _NoProducer:
    async def send(self, *args: object, **kwargs: object) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_an_exhausted_pool_answers_503_with_retry_after_at_once(suite: Suite) -> None:
    member_id = await register(suite)
    await eventually(lambda: suite.ledger(member_id))
    engine = suite.entitlements.runtime.engine
    size = engine.pool.size() + engine.pool._max_overflow  # type: ignore[attr-defined]
    held = [await engine.connect() for _ in range(size)]
    try:
        started = asyncio.get_running_loop().time()
        response = await suite.entitlements.client.get(
            f"/v1/members/{member_id}/ledgers/2026", headers=OFFICER
        )
        waited = asyncio.get_running_loop().time() - started
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert waited < 5
    finally:
        for connection in held:
            await connection.close()
    again = await suite.entitlements.client.get(
        f"/v1/members/{member_id}/ledgers/2026", headers=OFFICER
    )
    assert again.status_code == 200


async def test_replicas_migrating_one_fresh_database_at_once_all_succeed(stack: Stack) -> None:
    url = with_database(stack.server_url, f"jinhui_test_race_{uuid.uuid4().hex[:6]}")
    await asyncio.gather(*(migrate_database("members", url) for _ in range(3)))
    engine = create_engine(url)
    async with engine.connect() as conn:
        at = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    await engine.dispose()
    assert at == ScriptDirectory.from_config(alembic_config("members")).get_current_head()


async def test_a_batchs_counts_start_from_the_lines_already_there(stack: Stack) -> None:
    """Upgraded past 0010, a database counts the batch lines it held before, and every later
    change of a line moves its counts; a line of no batch counts nowhere."""
    url = with_database(stack.server_url, f"jinhui_test_counts_{uuid.uuid4().hex[:6]}")
    await ensure_database(url)
    engine = create_engine(url)

    def line(n: int, status: str, batch: str | None = "b-1") -> dict[str, Any]:
        return {"disbursement_id": f"line-{n}", "member_id": f"m-{n}", "base_union": "shanxi",
                "benefit": "holiday_gift", "amount_fen": 30000 + n, "status": status,
                "business_date": date(2026, 3, 1), "details": {}, "requested_by": "officer",
                "batch_id": batch}  # fmt: skip

    d = disbursements.c
    try:
        await upgrade("disbursements", engine, "0009")
        async with engine.begin() as conn:
            rows = [line(1, "issued"), line(2, "issued"), line(3, "rejected"), line(4, "x", None)]
            await conn.execute(insert(disbursements), rows)
        await upgrade("disbursements", engine)
        async with engine.begin() as conn:
            await conn.execute(
                update(disbursements).where(d.disbursement_id == "line-1").values(status="reversed")
            )
            await conn.execute(insert(disbursements), [line(5, "pending"), line(6, "y", None)])
            await conn.execute(
                update(disbursements).where(d.disbursement_id == "line-2").values(reason="note")
            )
        c = batch_counts.c
        async with engine.connect() as conn:
            kept = (
                await conn.execute(
                    select(c.batch_id, c.status, func.sum(c.lines), func.sum(c.amount_fen))
                    .group_by(c.batch_id, c.status)
                    .having(func.sum(c.lines) != 0)
                )
            ).all()
    finally:
        await engine.dispose()
    assert sorted((b, s, int(n), int(f)) for b, s, n, f in kept) == [
        ("b-1", "issued", 1, 30002),
        ("b-1", "pending", 1, 30005),
        ("b-1", "rejected", 1, 30003),
        ("b-1", "reversed", 1, 30001),
    ]


async def test_retention_prunes_old_published_rows_and_records_only(infra: Infra) -> None:
    t = infra.tables
    old = datetime.now(UTC) - timedelta(days=50)
    ids = [uuid.uuid4() for _ in range(3)]
    async with infra.sessions() as session, session.begin():
        row = {"topic": "x", "key": "k", "headers": {}, "payload": {}}
        await session.execute(
            insert(t.outbox),
            [
                {**row, "event_id": ids[0], "published_at": old},
                {**row, "event_id": ids[1], "published_at": datetime.now(UTC)},
                {**row, "event_id": ids[2], "published_at": None, "created_at": old},
            ],
        )
        await session.execute(
            insert(t.processed_messages),
            [
                {"consumer": "retention", "message_id": f"old-{uuid.uuid4()}", "topic": "x",
                 "partition": 0, "offset": 1, "processed_at": old},
                {"consumer": "retention", "message_id": f"new-{uuid.uuid4()}", "topic": "x",
                 "partition": 0, "offset": 2, "processed_at": datetime.now(UTC)},
            ],
        )  # fmt: skip
    deleted = await prune(infra.sessions, t, timedelta(days=45))
    assert deleted == {t.outbox.name: 1, t.processed_messages.name: 1}
    async with infra.sessions() as session:
        left = await session.scalar(select(func.count()).where(t.outbox.c.event_id.in_(ids)))
        kept = await session.scalar(
            select(func.count())
            .select_from(t.processed_messages)
            .where(t.processed_messages.c.consumer == "retention")
        )
    assert (left, kept) == (2, 1)  # the unpublished row stays, however old


async def test_after_the_broker_lost_its_data_recent_rows_are_sent_again(suite: Suite) -> None:
    member_id = await register(suite)
    runtime = suite.members.runtime
    async with runtime.sessions() as session:
        event_id = await session.scalar(
            select(runtime.tables.outbox.c.event_id)
            .where(runtime.tables.outbox.c.key == member_id)
            .order_by(runtime.tables.outbox.c.id)
            .limit(1)
        )
    await eventually(lambda: _published(runtime, member_id))
    assert await runtime.relay.republish(60) >= 1
    await eventually(lambda: _published(runtime, member_id))

    def twice(records: list[Any]) -> bool:
        return sum(header(r, "ce_id") == str(event_id) for r in records) >= 2

    await read_topic(runtime.settings.kafka_bootstrap_servers, MEMBERS_EVENTS, until=twice)


async def test_after_an_emptied_broker_only_what_a_reader_had_not_read_goes_again(
    suite: Suite, hardship: object
) -> None:
    """Once every reader of members' topic (entitlements, disbursements and hardship: all three
    running) has committed past a sighting, the rows published before it are not re-sent after
    the broker is emptied (it once re-sent the last hour, 309,000 rows, ahead of new work); a
    row published since is."""
    runtime = suite.members.runtime
    read_through = runtime.read_through
    read_through.forget_sightings()
    read = await register(suite)
    await eventually(lambda: _published(runtime, read))
    read_at = await _published_at(runtime, read)

    async def concluded() -> bool:
        await read_through.look()
        through = read_through.through.get(MEMBERS_EVENTS)
        return through is not None and through >= read_at

    # hardship starts fresh for this test: on a busy machine its groups may take minutes to
    # join (a consumer's join is waited for up to JOIN_LIMIT_S) before they commit anything
    await eventually(concluded, interval_s=0.5, timeout_s=JOIN_LIMIT_S + 60)
    through = dict(read_through.through)
    unread = await register(suite)
    await eventually(lambda: _published(runtime, unread))
    unread_at = await _published_at(runtime, unread)

    assert await runtime.relay.republish(3_600, through) >= 1
    await eventually(lambda: _published(runtime, unread))
    assert await _published_at(runtime, read) == read_at  # not sent again
    assert await _published_at(runtime, unread) > unread_at  # sent again


async def test_a_marker_made_after_the_look_began_is_seen_at_the_next_look(infra: Infra) -> None:
    """A look's partitions are the broker's, not a client's cache: a marker created just after
    the read-through's clients opened looked missing for five minutes (the cache's age), and no
    row was concluded read in all that time."""
    from shared.kafka.read_through import ReadThrough

    name = f"late-{uuid.uuid4().hex[:8]}"
    topic, marker = Topic(f"{name}.events.v1", 2, name, "read-through"), marker_topic(name)
    await ensure_topics(infra.bootstrap_servers, [topic])

    async def clock() -> datetime:
        return datetime.now(UTC)

    read_through = ReadThrough(
        service=name,
        bootstrap_servers=infra.bootstrap_servers,
        topics=[topic.name],
        marker=marker.name,
        clock=clock,
        interval_s=60,
    )
    try:
        await read_through.look()  # no marker yet: this broker is taken for a new one
        assert topic.name not in read_through.through
        await ensure_topics(infra.bootstrap_servers, [marker])
        read_through.forget_sightings()  # as after re-sending what the old broker had
        await read_through.look()  # a sighting
        await read_through.look()  # no reader is behind it
        assert topic.name in read_through.through
    finally:
        await read_through.close()


async def _published_at(runtime: Any, member_id: str) -> datetime:
    outbox = runtime.tables.outbox
    async with runtime.sessions() as session:
        return cast(
            datetime,
            await session.scalar(
                select(func.max(outbox.c.published_at)).where(outbox.c.key == member_id)
            ),
        )


async def _published(runtime: Any, member_id: str) -> bool:
    outbox = runtime.tables.outbox
    async with runtime.sessions() as session:
        waiting = await session.scalar(
            select(func.count()).where(outbox.c.key == member_id, outbox.c.published_at.is_(None))
        )
    return waiting == 0


async def test_payroll_can_be_given_a_month_again(suite: Suite) -> None:
    """`jinhui outbox-republish` for a payroll system that was away longer than the topic
    keeps its messages: the same entries, under the same ids."""
    from typer.testing import CliRunner

    from jinhui.cli import app

    member_id = await member_known(suite)
    issued = await settled(suite, (await ask(suite, member_id, "holiday_gift", 500))[
        "disbursement_id"
    ])  # fmt: skip
    did = issued["disbursement_id"]
    runtime = suite.disbursements.runtime
    bootstrap = runtime.settings.kafka_bootstrap_servers
    await eventually(lambda: _payroll_sent(runtime, did))
    first = await read_topic(bootstrap, PAYROLL_BENEFITS, until=_carrying(did, 1))
    ends = await topic_ends(bootstrap, PAYROLL_BENEFITS)
    result = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["outbox-republish", "disbursements", "--topic", PAYROLL_BENEFITS, "--since-days", "1",
         "--database-url", runtime.settings.database_url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rows will be published again" in result.output
    await eventually(lambda: _payroll_sent(runtime, did))  # the relay sent them again
    again = await read_topic(bootstrap, PAYROLL_BENEFITS, until=_carrying(did, 1), start=ends)
    ids = {header(r, "ce_id") for r in first + again if did.encode() in r.value}
    assert len(ids) == 1  # the same entry, under the same id


def _carrying(did: str, count: int) -> Callable[[list[Any]], bool]:
    return lambda records: sum(did.encode() in r.value for r in records) >= count


async def _payroll_sent(runtime: Any, did: str) -> bool:
    """Every payroll row of this disbursement is marked sent by the relay."""
    outbox = runtime.tables.outbox
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(outbox.c.published_at).where(
                    outbox.c.topic == PAYROLL_BENEFITS,
                    outbox.c.payload["disbursement_id"].astext == did,
                )
            )
        ).all()
    return bool(rows) and all(published is not None for (published,) in rows)


async def test_a_request_left_unanswered_is_asked_again_once_per_interval(suite: Suite) -> None:
    """A disbursement still pending after its request went out (the request or its answer was
    lost) has the request published again under the same id, at most once per interval."""
    from services.disbursements.service_layer.stuck import resend_stuck

    member_id = await member_known(suite)
    did = (await settled(suite, (await ask(suite, member_id, "holiday_gift", 500))[
        "disbursement_id"
    ]))["disbursement_id"]  # fmt: skip
    runtime = suite.disbursements.runtime
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    forget = text(
        "UPDATE disbursements SET status = 'pending', updated_at = :t WHERE disbursement_id = :d"
    )
    backdate = text(
        "UPDATE outbox SET published_at = :t WHERE payload->>'disbursement_id' = :d"
        " AND headers->>'ce_type' = 'jinhui.disbursements.DisbursementRequested'"
    )
    async with runtime.sessions() as session, session.begin():
        status = await session.scalar(
            text("SELECT status FROM disbursements WHERE disbursement_id = :d"), {"d": did}
        )
        await session.execute(forget, {"t": long_ago, "d": did})
        await session.execute(backdate, {"t": long_ago, "d": did})
    try:
        assert await resend_stuck(runtime, after_s=60) == 1
        await eventually(lambda: _requests_waiting(runtime, did, 0))
        assert await resend_stuck(runtime, after_s=60) == 0  # just sent: not flooded

        def twice(records: list[Any]) -> bool:
            asked = [
                header(r, "ce_id")
                for r in records
                if did.encode() in r.value
                and header(r, "ce_type") == "jinhui.disbursements.DisbursementRequested"
            ]
            return len(asked) >= 2 and len(set(asked)) == 1  # fmt: skip

        await read_topic(
            runtime.settings.kafka_bootstrap_servers, DISBURSEMENTS_EVENTS, until=twice
        )
    finally:
        async with runtime.sessions() as session, session.begin():
            await session.execute(
                text("UPDATE disbursements SET status = :s WHERE disbursement_id = :d"),
                {"s": status, "d": did},
            )


async def _requests_waiting(runtime: Any, did: str, expected: int) -> bool:
    async with runtime.sessions() as session:
        waiting = await session.scalar(
            text("SELECT count(*) FROM outbox WHERE published_at IS NULL"
                 " AND payload->>'disbursement_id' = :d"), {"d": did}
        )  # fmt: skip
    return waiting == expected


async def test_readiness_tells_the_truth_under_a_thousand_concurrent_requests(
    suite: Suite,
) -> None:
    """Under 1,000 concurrent decisions `/readyz` once answered 991 × 503 "database
    unavailable" while PostgreSQL was healthy: it waited in the requests' pool. It asks on a
    pool of its own now; the requests themselves are answered or refused 503 with Retry-After,
    never 500 — past `HTTP_MAX_IN_FLIGHT` (128) under way, refused at once as overload (a
    thousand at once were once all served, the last 5.5 s late)."""
    member_id = await member_known(suite)
    client = suite.entitlements.client
    body = {"member_id": member_id, "benefit": "holiday_gift", "amount_fen": 100,
            "business_date": "2026-03-01"}  # fmt: skip
    loaded = asyncio.Event()

    async def ready() -> bool:
        return (await client.get("/readyz")).status_code == 200

    await eventually(ready)  # a service still catching up at start is rightly not ready

    async def one() -> tuple[int, str | None, str | None]:
        answer = await client.post("/v1/checks", json=body, headers=OFFICER)
        rule = answer.json().get("rule") if answer.status_code == 503 else None
        return answer.status_code, answer.headers.get("retry-after"), rule

    async def probes() -> list[tuple[int, str]]:
        seen = []
        while not loaded.is_set():
            answer = await client.get("/readyz")
            seen.append((answer.status_code, answer.text))
            await asyncio.sleep(0.05)
        return seen

    watching = asyncio.create_task(probes())
    try:
        answers = await asyncio.gather(*(one() for _ in range(1000)))
    finally:
        loaded.set()
    readiness = await watching
    assert readiness and {status for status, _ in readiness} == {200}, readiness
    assert {status for status, _, _ in answers} <= {200, 503}
    assert all(after for status, after, _ in answers if status == 503)
    assert sum(1 for status, _, _ in answers if status == 200) > 0
    assert any(rule == "overloaded" for _, _, rule in answers)


async def test_background_passes_that_find_nothing_make_no_trace(
    suite: Suite, spans: InMemorySpanExporter
) -> None:
    """The passes an idle service repeats all day (a request left unanswered, vouchers to
    expire, parked requests past their deadline, the relay's poll) leave no span; a relay batch
    is one trace with the statement that marks it sent."""
    from services.disbursements.service_layer.stuck import resend_stuck
    from services.disbursements.service_layer.vouchers import expire_vouchers
    from services.entitlements.service_layer.decisions import sweep_expired

    spans.clear()
    disbursements, entitlements = suite.disbursements.runtime, suite.entitlements.runtime
    await resend_stuck(disbursements, after_s=3600)
    await expire_vouchers(disbursements.context, disbursements)
    await sweep_expired(entitlements.context, entitlements)
    await disbursements.relay.publish_once()
    lone = [
        s.name for s in spans.get_finished_spans() if s.parent is None and s.kind.name == "CLIENT"
    ]
    assert lone == []

    member_id = await register(suite)
    await eventually(lambda: _published(suite.members.runtime, member_id))
    finished = spans.get_finished_spans()
    marks = [s for s in finished if s.name.startswith("UPDATE") and s.parent is not None]
    relays = {s.context.span_id for s in finished if s.name.startswith("outbox relay")}
    assert any(s.parent.span_id in relays for s in marks if s.parent)  # marked sent, in its trace
