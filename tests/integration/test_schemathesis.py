"""Generated requests against every operation of every service (schemathesis reads each
OpenAPI document; valid and invalid cases, a fixed budget per operation), as an administrator
and as a scoped finance officer: no 5xx, and every answer's status and media type documented.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, openapi
from schemathesis.core import NotSet

from jinhui.inprocess import RunningService
from shared.auth import Role
from tests.integration.conftest import UNION, Suite
from tests.support import bearer, eventually

EXAMPLES_PER_MODE = 4
# Every request that ever got a wrong answer is written here (commit it with the fix) and sent
# again, first, on every later run: a failure found once by chance is never lost to chance.
REGRESSIONS = Path(__file__).resolve().parent.parent / "api-regressions"
# Operations whose random success would change what later tests decide under (a policy
# version, the org tree): they are tested by their own tests.
LEFT_OUT = {("POST", "/v1/policies"), ("PUT", "/v1/orgs")}
CALLERS = {
    "admin": bearer(Role.ADMIN, org="shanxi"),
    "finance": bearer(Role.FINANCE_OFFICER, org=UNION),
}


def _cases(spec: dict[str, Any]) -> list[Any]:
    schema = openapi.from_dict(spec)
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in LEFT_OUT:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = st.lists(
                operation.as_strategy(generation_mode=mode),
                min_size=EXAMPLES_PER_MODE,
                max_size=EXAMPLES_PER_MODE,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    found.extend(strategy.example())
                except Unsatisfiable:  # nothing invalid to make of an operation with no input
                    continue
    return found


# Each case is sent once, in turn as written or with the variants an attacker (or a careless
# client) sends: media types in any case and with parameters, a body under a type it is not,
# odd values in the headers the services read.
VARIANTS: list[dict[str, str]] = [
    {},
    {"content-type": "APPLICATION/JSON"},
    {"content-type": "Application/Json; Charset=UTF-8"},
    {"content-type": "text/plain"},
    {"content-type": "application/x-www-form-urlencoded"},
    {"x-access-reason": "%00%20", "accept-language": "en;q=0.9, zh;q=0.1"},
    {"x-access-reason": "%E5%B9%B4", "accept-language": "*"},
    {"idempotency-key": " "},
]


def _request(case: Any, variant: dict[str, str]) -> dict[str, Any]:
    """The request a case and a variant make, as plain data (what a regression file holds)."""
    headers = {k: str(v) for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    request: dict[str, Any] = {
        "method": case.method,
        "path": case.formatted_path,
        "params": case.query or None,
        "headers": headers,
        "content": None,
        "binary": False,  # content holds bytes as latin-1 text
    }
    if not isinstance(case.body, NotSet):
        body = case.body
        request["content"] = body if isinstance(body, str) else None
        if isinstance(body, bytes):
            request["content"], request["binary"] = body.decode("latin-1"), True
        elif not isinstance(body, str):
            request["content"] = json.dumps(body)
        headers["content-type"] = case.media_type or "application/json"
    for name, value in variant.items():
        if name != "content-type" or request["content"] is not None:
            headers[name] = value
    return request


async def _replay(
    client: httpx.AsyncClient, request: dict[str, Any], auth: dict[str, str]
) -> httpx.Response:
    content = request["content"]
    if content is not None:
        content = content.encode("latin-1" if request["binary"] else "utf-8", "surrogatepass")
    return await client.request(
        request["method"],
        request["path"],
        params=request["params"],
        headers={**request["headers"], **auth},
        content=content,
    )


def _keep(service: str, caller: str, request: dict[str, Any]) -> None:
    """A request that got a wrong answer, kept to be replayed on every later run."""
    REGRESSIONS.mkdir(exist_ok=True)
    record = {"service": service, "caller": caller, "request": request}
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, indent=1)
    name = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    (REGRESSIONS / f"{service}-{name}.json").write_text(text + "\n", encoding="utf-8")


def _regressions(service: str, caller: str) -> list[dict[str, Any]]:
    found = []
    for path in sorted(REGRESSIONS.glob(f"{service}-*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record["caller"] == caller:
            found.append(record["request"])
    return found


async def _send(
    client: httpx.AsyncClient, case: Any, auth: dict[str, str], variant: dict[str, str]
) -> httpx.Response:
    return await _replay(client, _request(case, variant), auth)


def _documented(operation: dict[str, Any], response: httpx.Response) -> str | None:
    """What is wrong with the answer, or None. A probe's 503 is its documented meaning (not
    ready yet), not an error."""
    probe = response.request.url.path == "/readyz" and response.status_code == 503
    if response.status_code >= 500 and not probe:
        return f"{response.status_code}: {response.text[:300]}"
    responses = operation["responses"]
    documented = responses.get(str(response.status_code)) or responses.get("default")
    if documented is None:
        return f"undocumented status {response.status_code}"
    media = response.headers.get("content-type", "").split(";")[0]
    if response.status_code >= 400 and media not in documented.get("content", {}):
        return f"undocumented media type {media} for {response.status_code}"
    return None


async def _ready(service: RunningService) -> bool:
    return (await service.client.get("/readyz")).status_code == 200


@pytest.mark.parametrize("caller", sorted(CALLERS))
async def test_generated_requests_get_documented_answers_and_no_5xx(
    suite: Suite, hardship: tuple[RunningService, Any], caller: str
) -> None:
    services = [suite.members, suite.entitlements, suite.disbursements, hardship[0]]
    for service in services:  # a service still catching up would answer 503, rightly
        await eventually(lambda s=service: _ready(s))
    problems = []
    sent = replayed = 0
    seen: set[int] = set()
    for service in services:
        spec = (await service.client.get("/openapi.json")).json()
        name = service.app.title.split()[-1]
        for request in _regressions(name, caller):  # every failure ever found, first
            response = await _replay(service.client, request, CALLERS[caller])
            replayed += 1
            operation = _operation(spec, request["method"], request["path"])
            wrong = _documented(operation, response) if operation else None
            if response.status_code >= 500 or wrong:
                problems.append(f"{request['method']} {request['path']} (kept): {wrong}")
        for n, case in enumerate(_cases(spec)):
            variant = VARIANTS[n % len(VARIANTS)]
            try:
                response = await _send(service.client, case, CALLERS[caller], variant)
            except (UnicodeEncodeError, httpx.InvalidURL, httpx.LocalProtocolError):
                continue  # not a request an HTTP client can send
            sent += 1
            seen.add(response.status_code)
            operation = spec["paths"][case.operation.path][case.method.lower()]
            wrong = _documented(operation, response)
            if wrong:
                problems.append(f"{case.method} {case.formatted_path} {variant}: {wrong}")
                _keep(name, caller, _request(case, variant))
    assert sent > 500 and replayed >= 1  # the kept failures were sent again too
    assert {200, 404, 422} <= seen  # valid and invalid requests both reached the routes
    assert problems == []


def _operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    """The OpenAPI operation a concrete path belongs to (its template's segments matched)."""
    parts = path.split("?")[0].strip("/").split("/")
    for template, operations in spec["paths"].items():
        pattern = template.strip("/").split("/")
        if len(pattern) != len(parts) and not template.endswith(":path}"):
            continue
        if all(p.startswith("{") or p == q for p, q in zip(pattern, parts, strict=False)):
            found = operations.get(method.lower())
            if found is not None:
                return dict(found)
    return None
