"""The AsyncAPI document in the repository is what the event models say."""

from __future__ import annotations

import yaml

from jinhui.asyncapi import DOCUMENT, build, render


def test_the_committed_document_matches_the_models() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(), "run `jinhui asyncapi`"


def test_hr_and_member_channels_carry_the_contract() -> None:
    doc = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    assert doc["asyncapi"].startswith("3.")
    hr = doc["channels"]["hrEmployeesV1"]
    assert hr["address"] == "hr.employees.v1"
    assert set(hr["messages"]) == {
        "EmployeeHired",
        "EmployeeDetailsChanged",
        "ChildBirthReported",
        "EmployeeLeft",
    }
    assert doc["operations"]["receiveHrEmployeesV1"]["action"] == "receive"
    schemas = doc["components"]["schemas"]
    for name in hr["messages"]:
        assert {"hr_event_id", "employee_number"} <= set(schemas[name]["required"])
    members = doc["channels"]["membersEventsV1"]["messages"]
    assert {"MemberRegistered", "ChildBirthRegistered", "BirthdayReached"} <= set(members)
    for name in members:
        assert "id_number" not in schemas[name]["properties"], name
        assert "phone" not in schemas[name]["properties"], name
    header = doc["components"]["messages"]["BirthdayReached"]["headers"]["properties"]["ce_type"]
    assert header["const"] == "jinhui.members.BirthdayReached"


def test_every_reference_resolves() -> None:
    doc = build()

    def refs(node: object) -> list[str]:
        if isinstance(node, dict):
            return [v for k, v in node.items() if k == "$ref"] + [
                r for v in node.values() for r in refs(v)
            ]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(doc):
        target: object = doc
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(target, dict) and part in target, ref
            target = target[part]
