"""The member registry over its API, on the real database and broker."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from services.members.domain.identity import compose_id_number
from shared.auth import Role
from shared.kafka.topics import MEMBERS_EVENTS
from tests.integration.conftest import HR, OFFICER, UNION, Suite, register
from tests.support import bearer, header, read_topic

ADMIN = bearer(Role.ADMIN, org="shanxi")
OTHER_UNION = "shanxi/datong/bu-0002"
NEIGHBOUR_UNION = "shanxi/taiyuan/xiaodian/bu-0003"


async def _get(suite: Suite, member_id: str, headers: dict[str, str] = OFFICER) -> dict:
    response = await suite.members.client.get(f"/v1/members/{member_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_registration_derives_birth_date_and_sex_and_refuses_a_second_registration(
    suite: Suite,
) -> None:
    body = suite.new_member(birth_date="1988-11-02")
    body.pop("birth_date")
    first = await suite.members.client.post("/v1/members", json=body, headers=HR)
    assert first.status_code == 201, first.text
    member_id = first.json()["member_id"]
    assert first.headers["location"] == f"/v1/members/{member_id}"
    member = await _get(suite, member_id)
    assert member["birth_date"] == "1988-11-02"
    assert member["sex"] in ("male", "female")

    again = await suite.members.client.post(
        "/v1/members", json={**body, "name": "另一个名字"}, headers=HR
    )
    assert again.status_code == 409
    problem = again.json()
    assert problem["rule"] == "member.duplicate-id-number"
    assert problem["member_id"] == member_id
    assert body["id_number"] not in again.text


@pytest.mark.parametrize(
    ("mutate", "field", "rule"),
    [
        (lambda n: n[:17] + ("0" if n[17] != "0" else "1"), "id_number", "gb11643.check-digit"),
        (lambda n: n[:16], "id_number", "gb11643.length"),
        (lambda n: n[:10] + "13" + n[12:], "id_number", "gb11643.birth-date"),
    ],
)
async def test_a_bad_id_number_is_named_never_echoed(suite: Suite, mutate, field, rule) -> None:  # type: ignore[no-untyped-def]
    body = suite.new_member()
    bad = mutate(str(body["id_number"]))
    body.pop("birth_date")
    response = await suite.members.client.post(
        "/v1/members", json={**body, "id_number": bad}, headers=HR
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert (problem["field"], problem["rule"]) == (field, rule)
    assert bad not in response.text and bad[:14] not in response.text


async def test_a_birth_date_that_contradicts_the_id_number_is_refused(suite: Suite) -> None:
    body = suite.new_member(birth_date="1990-03-07")
    response = await suite.members.client.post(
        "/v1/members", json={**body, "birth_date": "1990-03-08"}, headers=HR
    )
    assert response.status_code == 422
    assert response.json()["field"] == "birth_date"


async def test_id_number_and_phone_are_clear_only_for_hr_and_never_logged(
    suite: Suite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = suite.new_member(phone="13912345678")
    id_number = str(body["id_number"])
    response = await suite.members.client.post("/v1/members", json=body, headers=HR)
    member_id = response.json()["member_id"]

    for reader in (OFFICER, bearer(Role.CASEWORKER, org=UNION), bearer(Role.AUDITOR, org="shanxi")):
        member = await _get(suite, member_id, reader)
        assert member["id_number"] == id_number[:4] + "*" * 10 + id_number[-4:]
        assert member["phone"] == "139****5678"
    assert (await _get(suite, member_id, HR))["id_number"] == id_number
    assert (await _get(suite, member_id, HR))["phone"] == "13912345678"
    listing = await suite.members.client.get("/v1/members", params={"name": "王"}, headers=HR)
    assert id_number not in listing.text
    events = await suite.members.client.get(f"/v1/members/{member_id}/events", headers=HR)
    assert events.status_code == 200 and id_number not in events.text

    logged = " ".join(str(vars(r)) for r in caplog.records)
    assert member_id in logged  # the disclosure to HR is logged, by member id
    assert id_number not in logged and "13912345678" not in logged


async def test_an_officer_sees_only_their_own_subtree(suite: Suite) -> None:
    admin_made = await suite.members.client.post(
        "/v1/members", json=suite.new_member(base_union=OTHER_UNION, name="赵强"), headers=ADMIN
    )
    assert admin_made.status_code == 201, admin_made.text
    elsewhere = admin_made.json()["member_id"]
    ours = await register(suite, name="钱芳")

    response = await suite.members.client.get(f"/v1/members/{elsewhere}", headers=OFFICER)
    assert response.status_code == 404
    for path in ("events", "births"):
        method = "get" if path == "events" else "post"
        response = await getattr(suite.members.client, method)(
            f"/v1/members/{elsewhere}/{path}",
            **(
                {}
                if method == "get"
                else {"json": {"birth_date": "2026-01-01", "birth_order": 1, "within_policy": True}}
            ),
            headers=HR,
        )
        assert response.status_code == 404
    found = await suite.members.client.get("/v1/members", params={"limit": 500}, headers=OFFICER)
    ids = {m["member_id"] for m in found.json()["items"]}
    assert ours in ids and elsewhere not in ids
    province = await suite.members.client.get(
        "/v1/members", params={"name": "赵强"}, headers=bearer(Role.AUDITOR, org="shanxi")
    )
    assert [m["member_id"] for m in province.json()["items"]] == [elsewhere]


async def test_search_by_employment_form_and_birthday_month(suite: Suite) -> None:
    rider = await register(
        suite, name="孙骑手", birth_date="1995-08-19", employment_form="food_delivery_rider"
    )
    response = await suite.members.client.get(
        "/v1/members",
        params={"employment_form": "food_delivery_rider", "birthday_month": 8},
        headers=OFFICER,
    )
    assert [m["member_id"] for m in response.json()["items"]] == [rider]
    response = await suite.members.client.get(
        "/v1/members", params={"birthday_month": 9, "name": "孙骑手"}, headers=OFFICER
    )
    assert response.json()["items"] == []


async def test_both_spouses_get_the_child_once(suite: Suite) -> None:
    mother = await register(suite, name="周母", birth_date="1992-05-05")
    father_response = await suite.members.client.post(
        "/v1/members",
        json=suite.new_member(name="吴父", base_union=OTHER_UNION, birth_date="1990-01-01"),
        headers=ADMIN,
    )
    father = father_response.json()["member_id"]
    linked = await suite.members.client.put(
        f"/v1/members/{mother}/spouse", json={"spouse_member_id": father}, headers=ADMIN
    )
    assert linked.status_code == 200 and linked.json()["spouse_member_id"] == father

    birth = {"birth_date": "2026-02-10", "birth_order": 2, "within_policy": True}
    first = await suite.members.client.post(
        f"/v1/members/{mother}/births", json={**birth, "other_parent_member_id": father}, headers=HR
    )
    assert first.status_code == 201, first.text
    child_id = first.json()["child_id"]
    again = await suite.members.client.post(
        f"/v1/members/{father}/births", json=birth, headers=ADMIN
    )
    assert again.status_code == 200 and again.json() == {"child_id": child_id, "created": False}

    for parent in (mother, father):
        view = await _get(suite, parent, ADMIN)
        assert view["spouse_member_id"] in (mother, father)
        assert [c["child_id"] for c in view["children"]] == [child_id]
        events = await suite.members.client.get(f"/v1/members/{parent}/events", headers=ADMIN)
        births = [e for e in events.json() if e["type"].endswith("ChildBirthRegistered")]
        assert len(births) == 1 and births[0]["data"]["child_id"] == child_id

    def both_published(records: list) -> bool:
        return {
            r.key.decode()
            for r in records
            if header(r, "ce_type") == "jinhui.members.ChildBirthRegistered"
            and child_id.encode() in r.value
        } == {mother, father}

    await read_topic(
        suite.members.runtime.settings.kafka_bootstrap_servers, MEMBERS_EVENTS, until=both_published
    )


async def test_life_events_from_new_employment_form_to_rejoining(suite: Suite) -> None:
    member_id = await register(suite, name="郑师傅")
    client = suite.members.client
    county_hr = bearer(Role.HR_INTEGRATION, org="shanxi/taiyuan/xiaodian")
    url = f"/v1/members/{member_id}"
    nef = {"employment_form": "truck_driver", "registered_on": "2026-02-01", "platform": "货拉拉"}
    assert (await client.put(f"{url}/new-employment-form", json=nef, headers=HR)).json()[
        "employment_form"
    ] == "truck_driver"
    back = await client.delete(f"{url}/new-employment-form", headers=HR)
    assert back.json()["employment_form"] == "standard"
    moved = await client.post(
        f"{url}/transfers",
        json={"to_union": NEIGHBOUR_UNION, "effective_date": "2026-02-15"},
        headers=county_hr,
    )
    assert moved.status_code == 200 and moved.json()["base_union"] == NEIGHBOUR_UNION
    outside = await client.post(
        f"{url}/transfers",
        json={"to_union": OTHER_UNION, "effective_date": "2026-02-20"},
        headers=bearer(Role.HR_INTEGRATION, org="shanxi/taiyuan"),
    )
    assert outside.status_code == 403
    stranger = bearer(Role.HR_INTEGRATION, org="shanxi/datong")
    unseen = await client.post(
        f"{url}/transfers",
        json={"to_union": NEIGHBOUR_UNION, "effective_date": "2026-02-20"},
        headers=stranger,
    )
    assert unseen.status_code == 404  # a member outside the caller's tree is not disclosed
    corrected = await client.patch(
        url, json={"name": "郑师父", "migrant_worker": True}, headers=county_hr
    )
    assert corrected.json()["name"] == "郑师父" and corrected.json()["migrant_worker"] is True
    ended = await client.post(
        f"{url}/end", json={"reason": "retired", "effective_date": "2026-02-28"}, headers=county_hr
    )
    assert ended.json()["status"] == "ended" and ended.json()["ended_reason"] == "retired"
    refused = await client.post(
        f"{url}/births",
        json={"birth_date": "2026-02-01", "birth_order": 1, "within_policy": True},
        headers=county_hr,
    )
    assert refused.status_code == 409 and refused.json()["rule"] == "member.ended"
    back_in = await client.post(
        f"{url}/rejoin", json={"join_date": "2026-03-01"}, headers=county_hr
    )
    assert back_in.json()["status"] == "active"
    assert back_in.json()["base_union"] == NEIGHBOUR_UNION

    events = (await client.get(f"{url}/events", headers=county_hr)).json()
    assert [e["type"].rsplit(".", 1)[1] for e in events] == [
        "MemberRegistered",
        "NewEmploymentFormRegistered",
        "NewEmploymentFormEnded",
        "MemberTransferred",
        "MemberDetailsCorrected",
        "MembershipEnded",
        "MemberRejoined",
    ]
    assert [e["version"] for e in events] == list(range(1, 8))
    assert events[0]["actor"] == "tester"


async def test_only_hr_and_admins_change_the_registry(suite: Suite) -> None:
    member_id = await register(suite)
    response = await suite.members.client.post(
        f"/v1/members/{member_id}/end",
        json={"reason": "left", "effective_date": "2026-02-01"},
        headers=OFFICER,
    )
    assert response.status_code == 403 and response.json()["rule"] == "auth.role"
    response = await suite.members.client.post(
        "/v1/members", json=suite.new_member(base_union="shanxi/taiyuan/xiaodian"), headers=ADMIN
    )
    assert response.status_code == 422 and response.json()["rule"] == "org.base"


async def test_the_org_tree_is_read_by_subtree_and_extended_by_admins(suite: Suite) -> None:
    county = await suite.members.client.get(
        "/v1/orgs", headers=bearer(Role.AUDITOR, org="shanxi/taiyuan/xiaodian")
    )
    paths = [u["path"] for u in county.json()]
    assert paths[0] == "shanxi/taiyuan/xiaodian" and UNION in paths
    assert all(p.startswith("shanxi/taiyuan/xiaodian") for p in paths)
    new = {"units": [{"path": "shanxi/taiyuan/xiaodian/bu-0099", "name": "新工会", "kind": "base"}]}
    assert (await suite.members.client.put("/v1/orgs", json=new, headers=HR)).status_code == 403
    written = await suite.members.client.put("/v1/orgs", json=new, headers=ADMIN)
    assert written.json() == {"written": 1}
    orphan = {"units": [{"path": "shanxi/nowhere/bu-1", "name": "x", "kind": "base"}]}
    refused = await suite.members.client.put("/v1/orgs", json=orphan, headers=ADMIN)
    assert refused.status_code == 422 and refused.json()["rule"] == "org.parent"
    member = await suite.members.client.post(
        "/v1/members",
        json=suite.new_member(base_union="shanxi/taiyuan/xiaodian/bu-0099"),
        headers=ADMIN,
    )
    assert member.status_code == 201


async def test_published_member_events_are_keyed_by_member_and_carry_no_id_number(
    suite: Suite,
) -> None:
    body = suite.new_member(phone="13800001111")
    response = await suite.members.client.post("/v1/members", json=body, headers=HR)
    member_id = response.json()["member_id"]
    records = await read_topic(
        suite.members.runtime.settings.kafka_bootstrap_servers,
        MEMBERS_EVENTS,
        until=lambda rs: any(r.key == member_id.encode() for r in rs),
    )
    mine = [r for r in records if r.key == member_id.encode()]
    assert header(mine[0], "ce_type") == "jinhui.members.MemberRegistered"
    for record in records:
        assert str(body["id_number"]).encode() not in record.value
        assert b"13800001111" not in record.value


def test_composed_numbers_used_here_are_valid() -> None:
    assert compose_id_number("140105", date(1990, 3, 7), 5)[-1] in "0123456789X"
