"""What feeds the registry besides its API: the birthday scheduler, HR over Kafka, rosters."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer

from jinhui.inprocess import RunningService, running_service
from jinhui.localstack import Stack
from services.members.domain.hr import (
    ChildBirthReported,
    EmployeeDetailsChanged,
    EmployeeHired,
    EmployeeLeft,
)
from services.members.domain.identity import compose_id_number
from shared.auth import Role
from shared.clock import FixedClock
from shared.envelope import Envelope
from shared.events import DomainEvent
from shared.kafka.topics import HR_EMPLOYEES, MEMBERS_EVENTS, dlq
from tests.integration.conftest import HR, UNION, Suite, register
from tests.support import bearer, eventually, header, read_topic

HR_SOURCE = "/hr/acme-logistics"
ADMIN = bearer(Role.ADMIN, org="shanxi")


# --- birthdays ---------------------------------------------------------------------------------


@pytest.fixture
async def scheduler_members(stack: Stack) -> AsyncIterator[tuple[RunningService, FixedClock]]:
    """A second members instance on its own clock, its workers off: the test drives the
    scheduler. (The suite's instance keeps running on 2026-03-01 beside it.)"""
    clock = FixedClock()
    clock.set_business_date(date(2027, 1, 1))
    async with running_service("members", stack, clock, run_background_workers=False) as svc:
        yield svc, clock


async def _birthdays(svc: RunningService, member_id: str) -> list[tuple[int, str, str]]:
    """The member's BirthdayReached from 2027 on (the suite's own scheduler, on 2026-03-01,
    may rightly have recorded January and February birthdays of 2026)."""
    async with svc.runtime.sessions() as session:
        stored = await svc.runtime.event_store(session).load(f"member-{member_id}")
    years = [
        (s.event.year, str(s.event.birthday), str(s.event.noticed_on))  # type: ignore[attr-defined]
        for s in stored
        if s.event.event_type == "jinhui.members.BirthdayReached"
    ]
    assert len({y for y, _, _ in years}) == len(years), "a year recorded twice"
    return [b for b in years if b[0] >= 2027]


async def test_birthdays_once_a_year_on_the_day_and_caught_up_after_downtime(
    suite: Suite, scheduler_members: tuple[RunningService, FixedClock]
) -> None:
    svc, clock = scheduler_members
    born = {
        "jan": "1980-01-15",
        "leap": "1992-02-29",
        "mar": "1985-03-07",
        "jul": "1990-07-20",
        "dec": "1975-12-31",
    }
    ids = {k: await register(suite, name=f"寿星{k}", birth_date=v) for k, v in born.items()}
    scheduler = svc.runtime.services["birthdays"]

    day = date(2027, 1, 1)
    while day <= date(2027, 6, 30):
        clock.set_business_date(day)
        await scheduler.run_once()
        day += timedelta(days=1)
    assert await _birthdays(svc, ids["jan"]) == [(2027, "2027-01-15", "2027-01-15")]
    assert await _birthdays(svc, ids["leap"]) == [(2027, "2027-02-28", "2027-02-28")]
    assert await _birthdays(svc, ids["mar"]) == [(2027, "2027-03-07", "2027-03-07")]
    assert await _birthdays(svc, ids["jul"]) == []

    # Down from 1 July 2027 to 10 January 2028: the missed birthdays of 2027 are recorded
    # under 2027, and nothing of 2028 before its day.
    clock.set_business_date(date(2028, 1, 10))
    await asyncio.gather(scheduler.run_once(), scheduler.run_once())
    await scheduler.run_once()
    assert await _birthdays(svc, ids["jul"]) == [(2027, "2027-07-20", "2028-01-10")]
    assert await _birthdays(svc, ids["dec"]) == [(2027, "2027-12-31", "2028-01-10")]
    assert await _birthdays(svc, ids["jan"]) == [(2027, "2027-01-15", "2027-01-15")]
    clock.set_business_date(date(2028, 2, 29))
    await scheduler.run_once()
    assert (await _birthdays(svc, ids["leap"]))[-1] == (2028, "2028-02-29", "2028-02-29")

    def published(records: list) -> bool:  # type: ignore[type-arg]
        return any(
            r.key == ids["dec"].encode()
            and header(r, "ce_type") == "jinhui.members.BirthdayReached"
            for r in records
        )

    await read_topic(svc.runtime.settings.kafka_bootstrap_servers, MEMBERS_EVENTS, until=published)


# --- HR over Kafka -----------------------------------------------------------------------------


@pytest.fixture
async def hr_producer(suite: Suite) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(
        bootstrap_servers=suite.members.runtime.settings.kafka_bootstrap_servers
    )
    await producer.start()
    yield producer
    await producer.stop()


async def _send(producer: AIOKafkaProducer, event: DomainEvent, ce_id: str | None = None) -> str:
    envelope = Envelope.wrap(
        event,
        source=HR_SOURCE,
        time=datetime.now(UTC),
        partition_key=getattr(event, "employee_number", None),
        event_id=ce_id or str(uuid.uuid4()),
    )
    key, value, headers = envelope.to_kafka()
    await producer.send_and_wait(HR_EMPLOYEES, value, key=key, headers=headers)
    return envelope.id


async def _by_employee(suite: Suite, number: str) -> dict | None:  # type: ignore[type-arg]
    response = await suite.members.client.get(
        "/v1/members", params={"employee_number": number}, headers=HR
    )
    items = response.json()["items"]
    return items[0] if items else None


async def test_hr_events_out_of_order_and_duplicated_apply_once(
    suite: Suite, hr_producer: AIOKafkaProducer
) -> None:
    emp = f"E-{uuid.uuid4().hex[:8]}"
    id_number = compose_id_number("140105", date(1993, 4, 4), 401)
    spouse_id_number = compose_id_number("140105", date(1992, 6, 6), 402)
    spouse = await suite.members.client.post(
        "/v1/members",
        json={
            **suite.new_member(name="配偶", birth_date="1992-06-06"),
            "id_number": spouse_id_number,
        },
        headers=HR,
    )
    spouse_member = spouse.json()["member_id"]
    hired = EmployeeHired(
        hr_event_id=f"{emp}-1",
        employee_number=emp,
        base_union=UNION,
        name="冯快递",
        id_number=id_number,
        phone="13700001234",
        hire_date=date(2026, 1, 5),
    )
    birth = ChildBirthReported(
        hr_event_id=f"{emp}-3",
        employee_number=emp,
        birth_date=date(2026, 2, 1),
        birth_order=1,
        within_policy=True,
        other_parent_id_number=spouse_id_number,
    )
    courier = EmployeeDetailsChanged(
        hr_event_id=f"{emp}-2",
        employee_number=emp,
        effective_date=date(2026, 1, 20),
        employment_form="courier",  # type: ignore[arg-type]
        platform="顺丰",
    )
    # The birth and the change arrive before the hire; the birth twice; the hire twice under
    # two CloudEvent ids but one HR event id.
    await _send(hr_producer, birth)
    await _send(hr_producer, courier)
    await _send(hr_producer, birth)
    await _send(hr_producer, hired)
    await _send(hr_producer, hired)

    async def settled() -> dict | None:  # type: ignore[type-arg]
        member = await _by_employee(suite, emp)
        return member if member and member["employment_form"] == "courier" else None

    member = await eventually(settled)
    view = (await suite.members.client.get(f"/v1/members/{member['member_id']}", headers=HR)).json()
    assert view["phone"] == "13700001234" and view["employee_number"] == emp
    assert len(view["children"]) == 1
    assert view["children"][0]["other_parent_member_id"] == spouse_member
    spouse_view = (
        await suite.members.client.get(f"/v1/members/{spouse_member}", headers=HR)
    ).json()
    assert [c["child_id"] for c in spouse_view["children"]] == [view["children"][0]["child_id"]]
    province_hr = bearer(Role.HR_INTEGRATION, org="shanxi")
    parked = await suite.members.client.get("/v1/hr/parked", headers=province_hr)
    assert parked.status_code == 200 and emp not in parked.text

    await _send(
        hr_producer,
        EmployeeLeft(hr_event_id=f"{emp}-4", employee_number=emp, left_on=date(2026, 2, 20)),
    )

    async def left() -> bool:
        found = await _by_employee(suite, emp)
        return bool(found and found["status"] == "ended")

    await eventually(left)
    events = await suite.members.client.get(f"/v1/members/{member['member_id']}/events", headers=HR)
    types = [e["type"].rsplit(".", 1)[1] for e in events.json()]
    assert types == [
        "MemberRegistered",
        "ChildBirthRegistered",
        "NewEmploymentFormRegistered",
        "MembershipEnded",
    ]
    assert {e["actor"] for e in events.json()} == {f"hr:{HR_SOURCE}"}


async def test_bad_hr_events_go_to_the_dlq_with_a_readable_reason(
    suite: Suite, hr_producer: AIOKafkaProducer
) -> None:
    good = compose_id_number("140105", date(1991, 9, 9), 77)
    bad_digit = good[:17] + ("1" if good[17] != "1" else "2")
    rejected_id = await _send(
        hr_producer,
        EmployeeHired(
            hr_event_id="bad-1",
            employee_number="E-BAD-1",
            base_union=UNION,
            name="错号",
            id_number=bad_digit,
            hire_date=date(2026, 1, 1),
        ),
    )
    unknown_union = await _send(
        hr_producer,
        EmployeeHired(
            hr_event_id="bad-2",
            employee_number="E-BAD-2",
            base_union="shanxi/taiyuan/xiaodian/bu-9999",
            name="无会",
            id_number=good,
            hire_date=date(2026, 1, 1),
        ),
    )
    invalid = Envelope(
        type=EmployeeHired.event_type,
        source=HR_SOURCE,
        data={"hr_event_id": "bad-3", "employee_number": "E-BAD-3", "id_number": good},
        time=datetime.now(UTC),
    )
    key, value, headers = invalid.to_kafka()
    await hr_producer.send_and_wait(HR_EMPLOYEES, value, key=key, headers=headers)

    wanted = {rejected_id, unknown_union, invalid.id}
    records = await read_topic(
        suite.members.runtime.settings.kafka_bootstrap_servers,
        dlq(HR_EMPLOYEES),
        until=lambda rs: wanted <= {header(r, "ce_id") for r in rs},
    )
    by_id = {header(r, "ce_id"): r for r in records}
    assert header(by_id[rejected_id], "dlq_reason") == "rejected"
    assert "gb11643.check-digit" in (header(by_id[rejected_id], "dlq_detail") or "")
    assert "not-found" in (header(by_id[unknown_union], "dlq_detail") or "")
    assert header(by_id[invalid.id], "dlq_reason") == "invalid"
    assert "hire_date" in (header(by_id[invalid.id], "dlq_detail") or "")
    for record in by_id.values():
        for name, value in record.headers:
            if name.startswith("dlq_"):
                assert good.encode() not in value and bad_digit.encode() not in value
    assert await _by_employee(suite, "E-BAD-2") is None


# --- roster import -----------------------------------------------------------------------------


async def test_a_roster_in_chinese_is_imported_row_by_row(suite: Suite) -> None:
    known = suite.new_member(name="已入会")
    assert (
        await suite.members.client.post("/v1/members", json=known, headers=HR)
    ).status_code == 201
    n = [compose_id_number("140105", date(1990 + i, 1, 2), 300 + i) for i in range(4)]
    spare = [compose_id_number("140105", date(1980, 1, 1), i) for i in (9, 11)]
    broken = n[3][:17] + ("0" if n[3][17] != "0" else "1")
    csv_text = "\ufeff" + "\n".join(
        [
            "姓名,身份证号,手机号,入会日期,就业形态,农民工,少数民族,烈属,工号",
            f"张三,{n[0]},13800000001,2020-05-01,快递员,是,否,否,A001",
            f"李四,{n[1]},,2021/6/1,,否,是,否,A002",
            ",,,,,,,,",  # a blank row still counts as a row of the sheet
            f"王五,{n[2]},13800000003,2022年7月1日,外卖骑手,是,否,是,A003",
            f"张三重复,{n[0]},,2020-05-01,,否,否,否,A004",
            f"已入会,{known['id_number']},,2015-07-01,,否,否,否,A005",
            f"错号,{broken},,2020-01-01,,否,否,否,A006",
            f"坏日期,{spare[0]},,2020-13-01,,否,否,否,A007",
            f"怪形态,{spare[1]},,2020-01-01,宇航员,否,否,否,A008",
            "",
        ]
    )
    response = await suite.members.client.post(
        "/v1/members/imports",
        params={"union": UNION},
        content=csv_text.encode(),
        headers={**HR, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["already_member"], report["rejected"]) == (3, 2, 3)
    # Rows as the clerk sees them in the spreadsheet: the header is row 1, blank rows count.
    statuses = [(r["row"], r["employee_number"], r["name"], r["status"]) for r in report["rows"]]
    assert statuses == [
        (2, "A001", "张三", "created"),
        (3, "A002", "李四", "created"),
        (5, "A003", "王五", "created"),
        (6, "A004", "张三重复", "already_member"),
        (7, "A005", "已入会", "already_member"),
        (8, "A006", "错号", "rejected"),
        (9, "A007", "坏日期", "rejected"),
        (10, "A008", "怪形态", "rejected"),
    ]
    rows = report["rows"]
    assert "快递员" in rows[7]["reason"] and "courier" in rows[7]["reason"]  # what is accepted
    assert rows[3]["member_id"] == rows[0]["member_id"]
    assert "check-digit" in rows[5]["reason"] and broken not in response.text
    assert "join_date" in rows[6]["reason"] and "employment_form" in rows[7]["reason"]
    wang = (
        await suite.members.client.get(f"/v1/members/{rows[2]['member_id']}", headers=HR)
    ).json()
    assert wang["employment_form"] == "food_delivery_rider"
    assert wang["join_date"] == "2022-07-01" and wang["martyr_family"] is True

    other = await suite.members.client.post(
        "/v1/members/imports",
        params={"union": "shanxi/datong/bu-0002"},
        content=csv_text.encode(),
        headers={**HR, "Content-Type": "text/csv"},
    )
    assert other.status_code == 403
    headless = await suite.members.client.post(
        "/v1/members/imports",
        params={"union": UNION},
        content="name,phone\n张,1\n".encode(),
        headers={**HR, "Content-Type": "text/csv"},
    )
    assert headless.status_code == 422 and headless.json()["rule"] == "roster.header"
