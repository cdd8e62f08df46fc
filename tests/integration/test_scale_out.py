"""Scale-out is more replicas on the engines already there: a second entitlements replica joins
the consumer group, the topic's partitions are shared between the two, and a batch decided by
both holds every cap exactly as one replica would."""

from __future__ import annotations

import uuid

from jinhui.inprocess import running_service
from jinhui.localstack import Stack
from shared.auth import Role
from shared.kafka.consumer import ConsumerRunner
from shared.kafka.topics import DISBURSEMENTS_EVENTS
from tests.integration.conftest import Suite
from tests.integration.test_disbursements import (
    ask,
    batch_settled,
    holiday_batch,
    member_known,
    settled,
)
from tests.support import bearer, eventually


def _reading(runner: ConsumerRunner) -> set[int]:
    return {tp.partition for tp in runner.assignment if tp.topic == DISBURSEMENTS_EVENTS}


async def test_two_entitlements_replicas_share_a_batch_and_hold_every_cap(
    suite: Suite, stack: Stack
) -> None:
    union = f"shanxi/coal/bu-{uuid.uuid4().hex[:4]}"  # a union of its own: the batch is all of it
    unit = {"units": [{"path": union, "name": "扩容测试工会", "kind": "base"}]}
    admin = bearer(Role.ADMIN, org="shanxi")
    assert (await suite.members.client.put("/v1/orgs", json=unit, headers=admin)).status_code == 200
    hr = bearer(Role.HR_INTEGRATION, org=union)
    finance = bearer(Role.FINANCE_OFFICER, org=union)
    members = [
        await member_known(suite, headers=hr, base_union=union, name=f"矿工{i}") for i in range(24)
    ]
    for member_id in members[:4]:  # these four have 300 yuan left of their holiday cap
        near_cap = await ask(suite, member_id, "holiday_gift", 190000, headers=finance)
        assert (await settled(suite, near_cap["disbursement_id"], finance))["status"] == "issued"

    async with running_service("entitlements", stack, suite.clock) as second:
        first_runner, second_runner = (
            next(c for c in svc.runtime.consumers if c.group_id == "entitlements.disbursements")
            for svc in (suite.entitlements, second)
        )

        async def shared() -> bool:
            one, two = _reading(first_runner), _reading(second_runner)
            return bool(one) and bool(two) and not one & two and len(one | two) == 8

        await eventually(shared, timeout_s=120)
        body = holiday_batch(union, 50000, "scale-out")
        _, report = await batch_settled(suite, body, finance, lines=24, timeout_s=120)
        still_shared = await shared()
    assert report["by_status"] == {"issued": 20, "rejected": 4}
    assert still_shared  # both replicas held their partitions through the batch
    for member_id in members:
        ledger = await suite.ledger(member_id, headers=finance)
        assert ledger is not None
        line = next(b for b in ledger.json()["benefits"] if b["benefit"] == "holiday_gift")
        assert line["used_fen"] + line["reserved_fen"] <= line["cap_fen"]
