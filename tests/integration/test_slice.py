"""The thin slice over real HTTP handling, PostgreSQL and the broker: a member is registered in
members, the event crosses Kafka, and entitlements opens the member's ledger for the year."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from jinhui.inprocess import RunningService
from shared.auth import Role
from tests.integration.conftest import HR, Suite, register
from tests.support import bearer, eventually


async def test_registered_member_gets_a_ledger_for_the_year(suite: Suite) -> None:
    member_id = await register(suite)
    response = await eventually(lambda: suite.ledger(member_id))
    body = response.json()
    assert body["policy_version"] == "shanxi-2025-26"
    lines = {line["benefit"]: line for line in body["benefits"]}
    assert lines["birthday_gift"] == {
        "benefit": "birthday_gift",
        "title": "生日慰问",
        "title_en": "Birthday gift",
        "clause": "7.birthday",
        "cap_fen": 50000,
        "used_fen": 0,
        "reserved_fen": 0,
        "remaining_fen": 50000,
        "count": 0,
        "max_count": 1,
        "counted_in": None,
    }
    assert lines["holiday_gift"]["remaining_fen"] == 220000
    assert lines["voucher"]["cap_fen"] == 30000
    assert lines["outing"]["max_count"] == 4


async def test_another_unions_officer_cannot_see_the_ledger(suite: Suite) -> None:
    member_id = await register(suite)
    await eventually(lambda: suite.ledger(member_id))
    other = bearer(Role.FINANCE_OFFICER, org="shanxi/datong/bu-0002")
    response = await suite.entitlements.client.get(
        f"/v1/members/{member_id}/ledgers/2026", headers=other
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    city = bearer(Role.AUDITOR, org="shanxi/taiyuan")
    assert await suite.ledger(member_id, city) is not None


async def test_calls_without_a_valid_token_are_refused(suite: Suite) -> None:
    response = await suite.members.client.post("/v1/members", json=suite.new_member())
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    problem = response.json()
    assert problem["status"] == 401 and problem["type"].endswith("/unauthenticated")
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.bad"}
    response = await suite.entitlements.client.get("/v1/members/x/ledgers/2026", headers=forged)
    assert response.status_code == 401


async def test_hr_cannot_register_into_another_union(suite: Suite) -> None:
    response = await suite.members.client.post(
        "/v1/members", json=suite.new_member(base_union="shanxi/datong/bu-0002"), headers=HR
    )
    assert response.status_code == 403
    assert response.json()["rule"] == "auth.org"


async def test_invalid_request_names_the_field_without_echoing_it(suite: Suite) -> None:
    response = await suite.members.client.post(
        "/v1/members", json=suite.new_member(join_date="110101199003071234"), headers=HR
    )
    assert response.status_code == 422
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == ["join_date"]
    assert "110101199003071234" not in response.text


async def test_one_trace_from_http_request_to_the_other_services_consumer(
    suite: Suite, spans: InMemorySpanExporter
) -> None:
    member_id = await register(suite)
    await eventually(lambda: suite.ledger(member_id))
    post = next(
        s
        for s in reversed(spans.get_finished_spans())
        if s.name == "POST /v1/members" and s.kind.name == "SERVER"
    )
    trace_id = post.context.trace_id

    def joins(span: Any) -> bool:
        """In the request's trace, or a batch's span linked to it (messages processed together
        share one span, linked to each message's trace, as OpenTelemetry's messaging
        conventions have it)."""
        return span.context.trace_id == trace_id or any(
            link.context.trace_id == trace_id for link in span.links
        )

    async def consumer_span() -> Any:
        """The span ends after the handler's transaction commits: wait for it."""
        return next(
            (
                s
                for s in spans.get_finished_spans()
                if s.name.startswith("entitlements.members process") and joins(s)
            ),
            None,
        )

    consumer = await eventually(consumer_span)
    finished = spans.get_finished_spans()
    assert any(
        s.context.trace_id == trace_id and "outbox relay members.events.v1" in s.name
        for s in finished
    )
    database_spans_under_consumer = [
        s for s in finished if s.parent is not None and s.parent.span_id == consumer.context.span_id
    ]
    assert database_spans_under_consumer, "handler database work must nest under the consumer span"


async def test_health_readiness_and_metrics(suite: Suite) -> None:
    member_id = await register(suite)  # so the outbox has published something
    await eventually(lambda: suite.ledger(member_id))
    for service in (suite.members, suite.entitlements):
        assert (await service.client.get("/healthz")).json() == {"status": "ok"}

        async def ready(service: RunningService = service) -> httpx.Response | None:
            response = await service.client.get("/readyz")
            return response if response.status_code == 200 else None

        ready = await eventually(ready)  # consumers hold their partitions and have caught up
        assert all(c.caught_up.is_set() for c in service.runtime.consumers)
        assert ready.json()["checks"] == {
            "database": "ok",
            "broker": "ok",
            "consumers": "ok",
            "background_tasks": "ok",
        }
    metrics = (await suite.members.client.get("/metrics")).text
    assert "jinhui_http_request_duration_seconds_bucket" in metrics
    assert 'jinhui_outbox_published_total{service="members"}' in metrics


GUIDE = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


async def test_every_metric_the_operations_guide_names_is_exposed(suite: Suite) -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    documented = set(re.findall(r"`(jinhui_[a-z_]+?)(?:\*|\{|`)", guide))
    documented = {name for name in documented if not name.endswith("_")}
    assert len(documented) >= 10
    exposed = (await suite.disbursements.client.get("/metrics")).text
    missing = [
        name for name in sorted(documented) if not re.search(rf"^# TYPE {name}", exposed, re.M)
    ]
    assert missing == []
    assert re.search(r"^# TYPE jinhui_outbox_", exposed, re.M)


async def test_idle_services_send_no_traces_of_their_own_polling(
    suite: Suite, spans: InMemorySpanExporter
) -> None:
    """A trace is a request or a message: the relay's poll, the sweepers and the schedulers
    looking at empty tables make none (an idle replica once sent 175 traces in 15 s)."""
    import asyncio

    await asyncio.sleep(1)  # let what earlier tests started settle
    spans.clear()
    await asyncio.sleep(2)  # the relay polls every 0.2 s; the workers run too
    roots = [
        s
        for s in spans.get_finished_spans()
        if s.parent is None and "db.system" in (s.attributes or {})
    ]
    assert roots == []
