"""The authorization matrix, generated from the OpenAPI of every service: each operation, as
each role, from each place in the org tree relative to the resource (own union, the union above,
a sibling, the province, another city), against the access table kept beside the routes
(`services/<service>/entrypoints/access.py`). No wrong allow; outside the caller's tree a
resource answers 404 (its existence is not disclosed); no wrong deny either, so the table stays
true."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import strategies as st
from schemathesis import openapi
from schemathesis.core import NotSet

from jinhui.inprocess import RunningService
from services.disbursements.domain.benefits import WORKFLOW_ONLY
from services.disbursements.entrypoints.access import ACCESS as DISBURSEMENTS
from services.entitlements.contracts import Benefit
from services.entitlements.entrypoints.access import ACCESS as ENTITLEMENTS
from services.hardship.entrypoints.access import ACCESS as HARDSHIP
from services.members.entrypoints.access import ACCESS as MEMBERS
from shared.auth import Role
from shared.http.access import Access
from tests.integration.conftest import UNION, Suite
from tests.integration.test_disbursements import ask, member_known, settled
from tests.integration.test_hardship import CASEWORKER, household
from tests.support import bearer

COUNTY = "shanxi/taiyuan/xiaodian"
# Where a caller stands relative to a resource in UNION (a case: in COUNTY).
PLACES = {
    "own": (UNION, COUNTY),
    "parent": (COUNTY, "shanxi/taiyuan"),
    "sibling": ("shanxi/taiyuan/xiaodian/bu-0003", "shanxi/taiyuan/yingze"),
    "province": ("shanxi", "shanxi"),
    "elsewhere": ("shanxi/datong", "shanxi/datong"),
}
INSIDE = {"own", "parent", "province"}
TABLES = {
    "members": MEMBERS,
    "entitlements": ENTITLEMENTS,
    "disbursements": DISBURSEMENTS,
    "hardship": HARDSHIP,
}
# Kubernetes' probes and Prometheus: unauthenticated by design, reachable only inside the
# cluster (deploy/k8s NetworkPolicy); they tell nothing about members.
PROBES = {"/healthz", "/readyz", "/metrics"}
# Run only for roles that may not: a success would change what other tests decide under.
NOT_RUN_WHEN_ALLOWED = {"POST /v1/policies", "PUT /v1/orgs"}


@dataclass
class Fixtures:
    member_id: str
    disbursement_id: str
    batch_id: str
    case_id: str

    def path_value(self, name: str) -> str:
        return {
            "member_id": self.member_id,
            "disbursement_id": self.disbursement_id,
            "batch_id": self.batch_id,
            "case_id": self.case_id,
            "org": UNION,
            # A year and a benefit whose writes change nothing other tests decide under.
            "year": "2030",
            "benefit": "culture_tourism_product",
            "version": "shanxi-2025-26",
            "relief_id": "r-none",
            "conflict_id": "1",
            "entry_id": "1",
        }.get(name, "x")


async def _fixtures(suite: Suite, hardship: RunningService) -> Fixtures:
    member_id = await member_known(suite)  # by entitlements and by disbursements' directory
    asked = await ask(suite, member_id, "culture_tourism_product", 100)
    await settled(suite, asked["disbursement_id"])
    created = await suite.disbursements.client.post(
        "/v1/disbursement-batches",
        json={"batch_key": f"matrix-{member_id}", "union": UNION, "benefit": "voucher",
              "amount_fen": 100, "business_date": "2026-03-01"},
        headers=bearer(Role.FINANCE_OFFICER, org=UNION),
    )  # fmt: skip
    case = await hardship.client.post(
        "/v1/hardship/cases",
        json={"union": COUNTY, "source": "survey", "household": household(member_id, 50000)},
        headers=CASEWORKER,
    )
    return Fixtures(
        member_id, asked["disbursement_id"], created.json()["batch_id"], case.json()["case_id"]
    )


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Each operation with one schema-valid example (path parameters replaced below)."""
    found = []
    for result in openapi.from_dict(spec).get_all_operations():
        operation = result.ok()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            case = st.just(None).flatmap(lambda _, op=operation: op.as_strategy()).example()
        found.append((operation.method.upper(), operation.path, case))
    return found


async def _call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    case: Any,
    fixtures: Fixtures,
    headers: dict[str, str],
) -> int:
    url = path
    for name in case.path_parameters or {}:
        url = url.replace("{" + name + "}", fixtures.path_value(name))
    body = None if isinstance(case.body, NotSet) else _clean(case.body)
    if isinstance(body, dict):
        for key, value in (
            ("member_id", fixtures.member_id),
            ("union", UNION),
            ("base_union", UNION),
            ("to_union", UNION),
        ):
            if key in body and not (key == "union" and path == "/v1/disbursement-batches"):
                body[key] = value  # (a batch for a whole real union would spend its caps)
    extra = {"X-Access-Reason": "matrix", "Idempotency-Key": "matrix-key-0001"}
    query = {**(_clean(case.query) or {})}
    if "view" in query:
        query["view"] = "masked"  # the clear view is for some roles only, tested on its own
    kwargs: dict[str, Any] = {"headers": {**extra, **headers}, "params": query}
    if body is not None:
        if isinstance(body, bytes | str):
            kwargs["content"] = body
        else:
            kwargs["json"] = body
    response = await client.request(method, url, **kwargs)
    return response.status_code


def _clean(value: Any) -> Any:
    """A schema-valid example without what the edge refuses before any role is asked (NUL)."""
    if isinstance(value, str):
        return value.replace("\x00", "") or "x"
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _verdict(access: Access, role: Role, place: str, status: int) -> str | None:
    """What is wrong with `status`, or None. A 422 (the request itself is invalid) tells
    nothing about a resource; a 2xx or a 409 outside the caller's tree would."""
    if status >= 500:
        return f"{status}: a server error"
    inside = place == "province" if access.scope == "province" else place in INSIDE
    if not access.allows(role):
        return None if status in (403, 404) else f"{role.value} may not, got {status}"
    if not inside:
        expected = {
            "resource": (404, 422),
            "org": (403, 404, 422),
            "province": (403, 422),
            "caller": None,
        }[access.scope]
        if expected is not None and status not in expected:
            return f"outside the caller's tree, got {status} (expected {expected})"
        if expected is None and status in (401, 403):
            return f"a list answers within the tree, got {status}"
        return None
    if status == 401 or (status == 403 and access.scope != "org"):
        # (an org given in the body is a random one here: refusing it is right)
        return f"{role.value} may, got {status} (the access table is wrong, or the route)"
    return None


@pytest.mark.parametrize("service", sorted(TABLES))
async def test_every_operation_as_every_role_from_everywhere(
    suite: Suite,
    hardship: tuple[RunningService, Any],
    service: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    running = {
        "members": suite.members,
        "entitlements": suite.entitlements,
        "disbursements": suite.disbursements,
        "hardship": hardship[0],
    }[service]
    fixtures = await _fixtures(suite, hardship[0])
    spec = (await running.client.get("/openapi.json")).json()
    table = TABLES[service]
    wrong, checked = [], 0
    for method, path, case in _operations(spec):
        if path in PROBES:
            continue
        key = f"{method} {path}"
        assert key in table, f"{key} is missing from {service}'s access table"
        access = table[key]
        for role in Role:
            for place, (member_org, case_org) in PLACES.items():
                if key in NOT_RUN_WHEN_ALLOWED and access.allows(role):
                    continue
                org = case_org if "{case_id}" in path else member_org
                token = bearer(role, org=org, subject=f"matrix-{role.value}")
                status = await _call(running.client, method, path, case, fixtures, token)
                checked += 1
                problem = _verdict(access, role, place, status)
                if problem:
                    wrong.append(f"{key} as {role.value} from {place}: {problem}")
    with capsys.disabled():
        print(f"\n  authorization matrix, {service}: {checked} calls, {len(wrong)} wrong")
    assert checked > 50
    assert wrong == [], "\n".join(wrong)
    assert set(table) <= {f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops}


async def test_every_benefit_through_every_door(
    suite: Suite, capsys: pytest.CaptureFixture[str]
) -> None:
    """A benefit that belongs to a workflow (hardship relief: the register and its second pair
    of eyes) is refused at every other door, as every role that may use the door, from every
    place; every other benefit is at least let in (its own rules decide the rest)."""
    member_id = await member_known(suite)
    calls, wrong = 0, []
    for benefit in Benefit:
        for role in (Role.FINANCE_OFFICER, Role.ADMIN):
            for place in ("own", "parent", "province"):
                who = bearer(role, org=PLACES[place][0], subject=f"doors-{role.value}")
                direct = await suite.disbursements.client.post(
                    "/v1/disbursements",
                    json={"member_id": member_id, "benefit": benefit.value, "amount_fen": 1,
                          "business_date": "2026-03-01", "details": {}},
                    headers={**who, "Idempotency-Key": f"doors-{benefit}-{role}-{place}"},
                )  # fmt: skip
                only_its_workflow = benefit in WORKFLOW_ONLY
                batch = await suite.disbursements.client.post(
                    "/v1/disbursement-batches",
                    json={"batch_key": f"doors-{benefit}-{role}-{place}", "union": UNION,
                          "benefit": benefit.value, "amount_fen": 1,
                          # a batch of anything else is refused as dated in the future
                          "business_date": "2026-03-01" if only_its_workflow else "2029-01-01"},
                    headers=who,
                )  # fmt: skip
                calls += 2
                for door, answer in (("POST /v1/disbursements", direct), ("a batch", batch)):
                    rule = answer.json().get("rule") if answer.status_code == 422 else None
                    refused = rule in ("benefit.workflow-only", "batch.benefit-needs-details")
                    if only_its_workflow and not refused:
                        wrong.append(f"{benefit} through {door} ({role}, {place}): {answer.text}")
                    if not only_its_workflow and rule == "benefit.workflow-only":
                        wrong.append(f"{benefit} through {door} ({role}, {place}): refused")
    with capsys.disabled():
        print(f"\n  every benefit through every door: {calls} calls, {len(wrong)} wrong")
    assert wrong == [], "\n".join(wrong)
