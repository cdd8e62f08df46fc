"""Eligibility lists derived from the streams: summer camp, NEF insurance, recuperation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

from services.entitlements.service_layer.settlements import Settlement, settle
from services.entitlements.service_layer.views import read_profile
from services.hardship.contracts import (
    HardshipEvent,
    HardshipLevel,
    HouseholdEnteredRegister,
    HouseholdExitedRegister,
)
from shared.auth import Role
from shared.envelope import Envelope
from shared.kafka.producer import make_producer
from shared.kafka.topics import HARDSHIP_EVENTS
from shared.uow import UnitOfWork
from tests.integration.conftest import Suite, register
from tests.integration.test_reservations import request
from tests.support import bearer, eventually, reserve_now

UNION3 = "shanxi/taiyuan/xiaodian/bu-0003"
HR3 = bearer(Role.HR_INTEGRATION, org=UNION3)
READER = bearer(Role.AUDITOR, org="shanxi/taiyuan/xiaodian")


async def _with_child(suite: Suite, member_id: str) -> str:
    response = await suite.members.client.post(
        f"/v1/members/{member_id}/births",
        json={"birth_date": "2020-06-01", "birth_order": 1, "within_policy": True},
        headers=HR3,
    )
    return str(response.json()["child_id"])


async def _known(suite: Suite, member_id: str, children: int = 0) -> bool:
    async with suite.entitlements.runtime.sessions() as session:
        profile = await read_profile(suite.entitlements.runtime.event_store(session), member_id)
    return profile is not None and len(profile.children) >= children


async def test_lists_of_who_may_be_offered_what(suite: Suite) -> None:
    martyr = await register(suite, headers=HR3, base_union=UNION3, name="烈属", martyr_family=True)
    ordinary = await register(suite, headers=HR3, base_union=UNION3, name="普通")
    courier = await register(
        suite, headers=HR3, base_union=UNION3, name="快递", employment_form="courier"
    )
    eligible_child = await _with_child(suite, martyr)
    await _with_child(suite, ordinary)
    for member in (martyr, ordinary):
        await eventually(lambda member=member: _known(suite, member, children=1))
    await eventually(lambda: _known(suite, courier))

    client = suite.entitlements.client
    camp = await client.get("/v1/eligibility/summer-camp", params={"union": UNION3}, headers=READER)
    assert camp.status_code == 200, camp.text
    assert [(c["child_id"], c["reasons"]) for c in camp.json()] == [
        (eligible_child, ["martyr_family"])
    ]

    runtime = suite.entitlements.runtime
    nef = await client.get(
        "/v1/eligibility/nef-insurance", params={"union": UNION3}, headers=READER
    )
    assert [(w["member_id"], w["insured"]) for w in nef.json()] == [(courier, False)]
    insured = request(courier, "nef_injury_insurance", 12000)
    assert (await reserve_now(runtime.context, runtime, insured)).status == "reserved"  # type: ignore[union-attr]
    refused = await reserve_now(
        runtime.context, runtime, request(ordinary, "nef_injury_insurance", 1)
    )
    assert refused is not None and refused.status == "rejected"
    nef = await client.get(
        "/v1/eligibility/nef-insurance", params={"union": UNION3}, headers=READER
    )
    assert [(w["member_id"], w["insured"]) for w in nef.json()] == [(courier, True)]

    trip = request(ordinary, "recuperation", 1)
    decided = await reserve_now(runtime.context, runtime, trip)
    assert decided is not None and decided.status == "reserved"
    assert decided.event.year == 2025  # once per cycle: the cycle's first year holds the count
    went = Settlement(ordinary, decided.event.year, trip.disbursement_id, "issued")
    async with UnitOfWork(runtime) as uow:
        await settle(runtime.context, uow.events, went)
    waiting = await client.get(
        "/v1/eligibility/recuperation", params={"union": UNION3}, headers=READER
    )
    body = waiting.json()
    assert body["cycle"] == {"from": 2025, "to": 2029} and body["clause"] == "2.recuperation"
    ids = {m["member_id"] for m in body["members"]}
    assert {martyr, courier} <= ids and ordinary not in ids

    outsider = await client.get(
        "/v1/eligibility/summer-camp",
        params={"union": UNION3},
        headers=bearer(Role.AUDITOR, org="shanxi/datong"),
    )
    assert outsider.status_code == 404


async def test_the_hardship_register_makes_a_members_child_eligible(suite: Suite) -> None:
    member = await register(suite, headers=HR3, base_union=UNION3, name="困难")
    child = await _with_child(suite, member)
    await eventually(lambda: _known(suite, member, children=1))
    producer = make_producer(
        suite.entitlements.runtime.settings.kafka_bootstrap_servers, client_id="test-hardship"
    )
    await producer.start()

    async def send(event: HardshipEvent) -> None:
        key, value, headers = Envelope.wrap(
            event, source="/jinhui/hardship", time=datetime.now(UTC), partition_key=event.case_id
        ).to_kafka()
        await producer.send_and_wait(HARDSHIP_EVENTS, value, key=key, headers=headers)

    async def camp_ids() -> set[str]:
        response = await suite.entitlements.client.get(
            "/v1/eligibility/summer-camp", params={"union": UNION3}, headers=READER
        )
        return {c["child_id"] for c in response.json()}

    try:
        assert child not in await camp_ids()
        await send(
            HouseholdEnteredRegister(
                case_id="case-1",
                member_ids=[member],
                level=HardshipLevel.RELATIVE,
                entered_on=date(2026, 2, 1),
            )
        )
        await eventually(lambda: _in(child, camp_ids))
        await send(
            HouseholdExitedRegister(
                case_id="case-1",
                member_ids=[member],
                reason="out_of_hardship",
                exited_on=date(2026, 2, 20),
            )
        )

        async def gone() -> bool:
            return child not in await camp_ids()

        await eventually(gone)
    finally:
        await producer.stop()


async def _in(item: str, probe: Callable[[], Awaitable[set[str]]]) -> bool:
    return item in await probe()
