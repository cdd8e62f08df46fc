"""Hostile input and personal data: every bad request gets a clear 4xx, no file is disclosed
across unions, and no personal data reaches a log, a span or a dead letter in clear."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import date
from typing import Any
from urllib.parse import quote

import pytest
from aiokafka import AIOKafkaProducer
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from jinhui.inprocess import RunningService
from services.members.domain.hr import EmployeeHired
from services.members.domain.identity import compose_id_number
from shared.auth import Role
from shared.kafka.topics import HR_EMPLOYEES, dlq
from shared.telemetry.privacy import ScrubbingFilter, query_names_only, scrub
from tests.integration.conftest import HR, OFFICER, UNION, Suite, register
from tests.integration.test_hardship import CASEWORKER, OTHER_COUNTY, household
from tests.integration.test_runtime_integrity import send
from tests.support import bearer, eventually, header, read_topic

ADMIN = bearer(Role.ADMIN, org="shanxi")
CJK = re.compile(r"[\u4e00-\u9fff]")
PROVINCE_REVIEWER = {**bearer(Role.REVIEWER, org="shanxi"), "X-Access-Reason": "duplicates"}


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return dict(response.json())


# --- every bad request gets a clear 4xx ---------------------------------------------------------


async def test_nul_bytes_anywhere_are_refused_naming_where(suite: Suite) -> None:
    m, e, d = suite.members.client, suite.entitlements.client, suite.disbursements.client
    cases = [
        (m.get("/v1/members/m-%00x", headers=HR), "(path)"),
        (m.get("/v1/members", params={"name": "a\x00b"}, headers=HR), "query.name"),
        (
            e.post(
                "/v1/checks",
                json={"member_id": "m\x00", "benefit": "voucher", "amount_fen": 1,
                      "business_date": "2026-03-01"},
                headers=OFFICER,
            ),
            "member_id",
        ),
        (
            d.post(
                "/v1/disbursements",
                json={"member_id": "m-1", "benefit": "outing", "amount_fen": 1,
                      "business_date": "2026-03-01", "details": {"scenic_area": "x\x00"}},
                headers={**OFFICER, "Idempotency-Key": "k-nul-0001"},
            ),
            "details.scenic_area",
        ),
    ]  # fmt: skip
    for call, field in cases:
        body = _problem(await call, 422)
        assert (body["rule"], body["field"]) == ("input.nul", field)


async def test_out_of_range_years_and_dates_are_4xx(suite: Suite) -> None:
    e, d, m = suite.entitlements.client, suite.disbursements.client, suite.members.client
    for call in (
        e.get("/v1/eligibility/recuperation", params={"year": -1}, headers=OFFICER),
        e.get("/v1/eligibility/nef-insurance", params={"year": 87661755386963184}, headers=OFFICER),
        d.get("/v1/finance/spending", params={"year": 17179869184}, headers=OFFICER),
        d.get(f"/v1/recuperation-plans/{UNION}/{2**63}", headers=OFFICER),
    ):
        assert _problem(await call, 422)["field"] in ("year", "(root)")
    far = await m.post("/v1/members", json=suite.new_member(join_date="1472-03-10"), headers=HR)
    assert _problem(far, 422)["field"] == "join_date"
    member_id = await register(suite)
    ended = await m.post(
        f"/v1/members/{member_id}/end",
        json={"reason": "left", "effective_date": "3515-01-15"},
        headers=HR,
    )
    assert _problem(ended, 422)["field"] == "effective_date"


async def test_deep_nesting_and_large_bodies_are_refused(suite: Suite) -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(500):
        node["x"] = {}
        node = node["x"]
    body = {"member_id": "m-1", "benefit": "voucher", "amount_fen": 1,
            "business_date": "2026-03-01", "details": deep}  # fmt: skip
    nested = await suite.disbursements.client.post(
        "/v1/disbursements", json=body, headers={**OFFICER, "Idempotency-Key": "k-deep-0001"}
    )
    assert _problem(nested, 422)["rule"] == "input.too-deep"
    huge = household(None, 50000)
    huge["documents"] = ["x" * (10 * 1024 * 1024)]
    too_big = await suite.members.client.post("/v1/members", json={"huge": huge}, headers=HR)
    assert _problem(too_big, 413)["rule"] == "input.body-too-large"


async def test_the_openapi_documents_every_error_as_problem_json(suite: Suite) -> None:
    for service in (suite.members, suite.entitlements, suite.disbursements):
        spec = (await service.client.get("/openapi.json")).json()
        for path, operations in spec["paths"].items():
            if path in ("/healthz", "/readyz", "/metrics"):
                continue
            for method, operation in operations.items():
                responses = operation["responses"]
                for status in ("401", "403", "404", "422", "503"):
                    assert status in responses, (method, path, status)
                    assert "application/problem+json" in responses[status]["content"]
                assert "application/json" not in responses["422"]["content"]


# --- hardship: nothing disclosed across unions --------------------------------------------------


async def test_an_intake_for_a_person_on_file_elsewhere_discloses_nothing(
    suite: Suite, hardship: tuple[RunningService, Any]
) -> None:
    svc, _ = hardship
    id_number = compose_id_number("140105", date(1979, 7, 7), 951)
    first = await svc.client.post(
        "/v1/hardship/cases",
        json={"union": "shanxi/taiyuan/xiaodian", "source": "survey",
              "household": household(None, 50000, id_number=id_number)},
        headers=CASEWORKER,
    )  # fmt: skip
    assert first.status_code == 201
    elsewhere = await svc.client.post(
        "/v1/hardship/cases",
        json={"union": "shanxi/taiyuan/yingze", "source": "walk_in",
              "household": household(None, 50000, id_number=id_number)},
        headers=OTHER_COUNTY,
    )  # fmt: skip
    assert elsewhere.status_code == 201, elsewhere.text
    own = elsewhere.json()
    assert own["joined"] is False and own["case_id"] != first.json()["case_id"]
    assert first.json()["case_id"] not in elsewhere.text
    flagged = await svc.client.get("/v1/hardship/duplicates", headers=PROVINCE_REVIEWER)
    pairs = {(f["case_id"], f["other_case_id"]) for f in flagged.json()}
    assert (own["case_id"], first.json()["case_id"]) in pairs
    assert (
        await svc.client.get("/v1/hardship/duplicates", headers=OTHER_COUNTY)
    ).status_code == 403


async def test_four_eyes_cannot_be_split_and_reads_say_why(
    suite: Suite, hardship: tuple[RunningService, Any]
) -> None:
    svc, _ = hardship
    member_id = await register(suite)
    id_number = compose_id_number("140105", date(1980, 8, 8), 952)
    opened = await svc.client.post(
        "/v1/hardship/emergencies",
        json={"union": "shanxi/taiyuan/xiaodian", "member_id": member_id, "amount_fen": 200000,
              "purpose": "medical", "household": household(member_id, 30000, id_number=id_number)},
        headers=CASEWORKER,
    )  # fmt: skip
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    statuses = []
    for _ in range(4):
        asked = await svc.client.post(
            f"/v1/hardship/cases/{case_id}/reliefs",
            json={"member_id": member_id, "amount_fen": 200000, "purpose": "medical"},
            headers=CASEWORKER,
        )
        assert asked.status_code in (200, 201), asked.text
        statuses.append(asked.json()["reliefs"][-1]["status"])
    assert statuses == ["awaiting approval"] * 4  # 2,000 yuan more in 30 days needs a second person

    no_reason = {k: v for k, v in CASEWORKER.items() if k != "X-Access-Reason"}
    unexplained = await svc.client.get(f"/v1/hardship/cases/{case_id}", headers=no_reason)
    assert _problem(unexplained, 422)["field"] == "X-Access-Reason"
    default = await svc.client.get(f"/v1/hardship/cases/{case_id}", headers=CASEWORKER)
    shown = default.json()["household"]["people"][0]["id_number"]
    assert shown != id_number and shown.endswith(id_number[-4:])
    clear = await svc.client.get(
        f"/v1/hardship/cases/{case_id}", params={"view": "clear"},
        headers={**CASEWORKER, "X-Access-Reason": quote("入户核查")},
    )  # fmt: skip
    assert clear.json()["household"]["people"][0]["id_number"] == id_number
    denied = await svc.client.get(f"/v1/hardship/cases/{case_id}", headers=OTHER_COUNTY)
    assert denied.status_code == 404
    trail = await svc.client.get(
        f"/v1/hardship/cases/{case_id}/audit", headers=bearer(Role.AUDITOR, org="shanxi")
    )
    actions = {(e["actor"], e["action"], e["why"]) for e in trail.json()}
    assert ("caseworker-li", "read-clear", "入户核查") in actions
    assert ("caseworker-wang", "read-denied", "case review") in actions


# --- scoping ------------------------------------------------------------------------------------


async def test_out_of_tree_searches_answer_like_every_other_out_of_tree_call(
    suite: Suite,
) -> None:
    other = await suite.members.client.get(
        "/v1/members", params={"base_union": "shanxi/datong/bu-0002"}, headers=HR
    )
    assert other.status_code == 404


async def test_relief_details_and_ledgers_only_for_the_roles_that_need_them(
    suite: Suite,
) -> None:
    member_id = await register(suite)
    await eventually(lambda: suite.ledger(member_id))
    ledger = await suite.entitlements.client.get(
        f"/v1/members/{member_id}/ledgers/2026", headers=HR
    )
    assert ledger.status_code == 403
    listing = await suite.disbursements.client.get(
        "/v1/finance/spending", params={"year": 2026}, headers=HR
    )
    assert listing.status_code == 403


# --- personal data stays out of logs, spans and dead letters -------------------------------------


def test_database_row_details_are_cut_from_logs() -> None:
    leaked = (
        "new row violates check constraint. DETAIL:  Failing row contains (m-1, 周秘密, "
        "140105199001011234, 13912345678). [parameters: ('周秘密', '13912345678')]\n"
        "Key (id_hash)=(abc123) already exists."
    )
    cleaned = scrub(leaked)
    for secret in ("周秘密", "140105199001011234", "13912345678", "abc123"):
        assert secret not in cleaned
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, leaked, None, None)
    try:
        raise ValueError(leaked)
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    ScrubbingFilter().filter(record)
    assert "周秘密" not in record.getMessage() and "周秘密" not in (record.exc_text or "")
    assert query_names_only("/v1/members?name=周秘密&employee_number=E-1") == (
        "/v1/members?name=&employee_number="
    )


async def test_searches_by_name_leave_no_name_in_the_trace(
    suite: Suite, spans: InMemorySpanExporter
) -> None:
    secret = f"周{uuid.uuid4().hex[:4]}"
    await suite.members.client.get("/v1/members", params={"name": secret}, headers=HR)
    for span in spans.get_finished_spans():
        for name, value in (span.attributes or {}).items():
            assert secret not in str(value), (span.name, name)


async def test_hr_dead_letters_keep_id_numbers_sealed(suite: Suite) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=suite.members.runtime.settings.kafka_bootstrap_servers
    )
    await producer.start()
    try:
        id_number = compose_id_number("140105", date(1991, 1, 1), 953)
        number = f"E-{uuid.uuid4().hex[:6]}"
        bad = EmployeeHired(
            hr_event_id=f"dl-{number}", employee_number=number,
            base_union="shanxi/taiyuan/xiaodian/bu-9999", name="封存", id_number=id_number,
            hire_date=date(2026, 1, 1),
        )  # fmt: skip
        ce_id = await send(producer, HR_EMPLOYEES, bad, key=number)
    finally:
        await producer.stop()
    records = await read_topic(
        suite.members.runtime.settings.kafka_bootstrap_servers,
        dlq(HR_EMPLOYEES),
        until=lambda rs: any(header(r, "ce_id") == ce_id for r in rs),
    )
    record = next(r for r in records if header(r, "ce_id") == ce_id)
    assert header(record, "dlq_value") == "sealed"
    assert id_number.encode() not in record.value
    opened = suite.members.runtime.context.vault.open(record.value)
    assert id_number in opened


async def test_seeded_personal_data_reaches_no_log_span_or_dead_letter(
    suite: Suite,
    hardship: tuple[RunningService, Any],
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Known values, sent down every error path an outsider can reach; then every log line (as
    the services' JSON handler writes it), every span (as exported) and every dead letter is
    searched for them."""
    import io
    import json as jsonlib

    from pythonjsonlogger.json import JsonFormatter

    from shared.telemetry.privacy import scrubbed_span

    caplog.set_level(logging.DEBUG)
    spans.clear()
    name, phone, income = "欧阳秘密", "13987654321", 1234567
    id_number = compose_id_number("140105", date(1977, 7, 17), 954)
    other_id = compose_id_number("140105", date(1976, 6, 16), 955)  # an HR event's, refused
    body = suite.new_member(name=name, phone=phone, id_number=id_number, birth_date="1977-07-17")
    first = await suite.members.client.post("/v1/members", json=body, headers=HR)
    assert first.status_code == 201
    again = await suite.members.client.post("/v1/members", json=body, headers=HR)
    assert again.status_code == 409 and id_number not in again.text and name not in again.text
    bad = await suite.members.client.post(
        "/v1/members", json={**body, "phone": phone + "9", "join_date": "3000-01-01"}, headers=HR
    )
    assert bad.status_code == 422 and phone not in bad.text
    await suite.members.client.get("/v1/members", params={"name": name}, headers=HR)
    svc, _ = hardship
    people = household(first.json()["member_id"], income, id_number=id_number)
    people["people"][0]["name"] = name
    intake = await svc.client.post(
        "/v1/hardship/cases",
        json={"union": "shanxi/taiyuan/xiaodian", "source": "survey", "household": people},
        headers=CASEWORKER,
    )
    assert intake.status_code == 201
    wrong = await svc.client.post(
        "/v1/hardship/cases",
        json={"union": "shanxi/taiyuan/xiaodian", "source": "nowhere", "household": people},
        headers=CASEWORKER,
    )
    assert wrong.status_code == 422 and name not in wrong.text and id_number not in wrong.text
    producer = AIOKafkaProducer(
        bootstrap_servers=suite.members.runtime.settings.kafka_bootstrap_servers
    )
    await producer.start()
    try:
        number = f"E-{uuid.uuid4().hex[:6]}"
        hire = EmployeeHired(
            hr_event_id=f"pii-{number}", employee_number=number, base_union="shanxi/none/bu-x",
            name=name, id_number=other_id, phone=phone, hire_date=date(2026, 1, 1),
        )  # fmt: skip
        ce_id = await send(producer, HR_EMPLOYEES, hire, key=number)
    finally:
        await producer.stop()
    dead = await read_topic(
        suite.members.runtime.settings.kafka_bootstrap_servers,
        dlq(HR_EMPLOYEES),
        until=lambda rs: any(header(r, "ce_id") == ce_id for r in rs),
    )

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ScrubbingFilter())
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for record in caplog.records:
        if record.name.startswith("aiokafka") and record.levelno < logging.WARNING:
            continue  # the services log the Kafka client at WARNING and above only
        handler.handle(record)
    exported = [scrubbed_span(s) for s in spans.get_finished_spans()]
    traced = jsonlib.dumps(
        [
            [dict(s.attributes or {}), s.status.description,
             [dict(e.attributes or {}) for e in s.events]]
            for s in exported
        ],
        ensure_ascii=False,
        default=str,
    )  # fmt: skip
    letters = b" ".join(r.value + b" ".join(v for _, v in r.headers) for r in dead)
    for secret in (name, phone, id_number, other_id, str(income)):
        assert secret not in stream.getvalue(), f"{secret} in a log line"
        assert secret not in traced, f"{secret} in a span"
        assert secret.encode() not in letters, f"{secret} in a dead letter"


# --- in the caller's language -------------------------------------------------------------------


async def test_problems_speak_chinese_unless_english_is_preferred(suite: Suite) -> None:
    """A union clerk reads Chinese by default; `Accept-Language: en` gets English. The rule and
    field stay the same machine codes, and the specific English stays beside the Chinese."""
    headless = "name,phone\n张,1\n".encode()
    asked = [
        await suite.members.client.post(
            "/v1/members/imports",
            params={"union": UNION},
            content=headless,
            headers={**HR, "Content-Type": "text/csv", **extra},
        )
        for extra in ({}, {"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    ]
    zh, en = (_problem(r, 422) for r in asked)
    assert asked[0].headers["content-language"] == "zh"
    assert asked[1].headers["content-language"] == "en"
    assert zh["rule"] == en["rule"] == "roster.header" and zh["field"] == en["field"]
    assert zh["title"] == "请求内容有误" and en["title"] == "The request is not valid"
    assert zh["detail"] == f"名册表头缺少必填列（{en['detail']}）"
    assert "身份证号" in en["detail"]  # which columns are missing, in either language
    missing = await suite.members.client.get("/v1/members/m-nobody", headers=HR)
    assert _problem(missing, 404)["title"].startswith("未找到")
    typed = await suite.members.client.post(
        "/v1/members", json={"name": 1}, headers={**HR, "Accept-Language": "zh-CN"}
    )
    assert _problem(typed, 422)["detail"].startswith("请求字段有误（")
    female = suite.new_member(sex="female-ish")
    answers = [
        _problem(
            await suite.members.client.post("/v1/members", json=female, headers={**HR, **extra}),
            422,
        )
        for extra in ({}, {"Accept-Language": "en"})
    ]  # pydantic's messages in the caller's language too
    assert "须为以下之一" in answers[0]["detail"] and "Input should be" not in answers[0]["detail"]
    assert "Input should be" in answers[1]["detail"]


@pytest.mark.parametrize(
    ("details", "business_date", "rule"),
    [
        ({}, "2026-06-01", "period.future"),
        ({"destination_city": "atlantis"}, "2026-03-01", "outing.unknown-city"),
        ({"scenic_area": "五台山"}, "2026-03-01", "outing.prohibited-area"),
        ({"cost_lines": [{"category": "meals", "amount_fen": 999_999}]}, "2026-03-01",
         "outing.travel-standard"),
    ],
)  # fmt: skip
async def test_the_refusals_of_an_outing_speak_english_when_asked(
    suite: Suite, details: dict[str, Any], business_date: str, rule: str
) -> None:
    """Four refusals once stayed Chinese under `Accept-Language: en`."""
    member_id = await register(suite)
    trip = {"start_date": "2026-03-01", "end_date": "2026-03-01", "destination_city": "taiyuan",
            "cost_lines": [{"category": "meals", "amount_fen": 100}]} | details  # fmt: skip
    amount = sum(line["amount_fen"] for line in trip["cost_lines"])
    body = {"member_id": member_id, "benefit": "outing", "amount_fen": amount,
            "business_date": business_date, "details": trip}  # fmt: skip
    said = {}
    for lang in ("zh", "en"):
        answer = await suite.disbursements.client.post(
            "/v1/disbursements",
            params={"wait": 30},
            json=body,
            headers={**OFFICER, "Idempotency-Key": f"k-{uuid.uuid4()}", "Accept-Language": lang},
        )
        said[lang] = _problem(answer, 422)
        assert said[lang]["rule"] == rule
    assert CJK.search(said["zh"]["detail"]) and not CJK.search(said["en"]["detail"])


# --- the probes that once answered 500, and the doors that let money around its workflow ------


async def test_media_types_headers_csv_and_ids_that_once_answered_500_are_4xx(
    suite: Suite, hardship: tuple[RunningService, Any]
) -> None:
    svc, _ = hardship
    d, m = suite.disbursements.client, suite.members.client
    one = {"member_id": "m-1", "benefit": "voucher", "amount_fen": 1, "business_date": "2026-03-01"}
    for media in ("APPLICATION/JSON", "Application/Json; charset=UTF-8"):
        escaped = await d.post(
            "/v1/disbursements",
            content=b'{"member_id": "m-\\u0000", "benefit": "voucher", "amount_fen": 1}',
            headers={**OFFICER, "Idempotency-Key": f"k-{uuid.uuid4()}", "Content-Type": media},
        )
        assert _problem(escaped, 422)["rule"] == "input.nul"
        deep = b'{"details": ' * 600 + b"1" + b"}" * 600
        nested = await d.post(
            "/v1/disbursements",
            content=deep,
            headers={**OFFICER, "Idempotency-Key": f"k-{uuid.uuid4()}", "Content-Type": media},
        )
        assert _problem(nested, 422)["rule"] == "input.too-deep"
    xml = await d.post(
        "/v1/disbursements",
        content=b"<member/>",
        headers={**OFFICER, "Idempotency-Key": "k-xml-0001", "Content-Type": "text/xml"},
    )
    assert _problem(xml, 415)["rule"] == "input.media-type"
    for reason in ("%00ab", "%20%20", "%FF%FE"):
        read = await svc.client.get(
            "/v1/hardship/watch-list", headers={**CASEWORKER, "X-Access-Reason": reason}
        )
        assert _problem(read, 422)["field"] == "X-Access-Reason"
    long_id = await svc.client.get("/v1/hardship/cases/" + "案" * 200, headers=CASEWORKER)
    assert _problem(long_id, 422)["field"] == "case_id"
    roster = 'name,id_number,join_date\n"' + "x" * 200_000 + "\n"
    unclosed = await m.post(
        "/v1/members/imports",
        params={"union": UNION},
        content=roster.encode(),
        headers={**HR, "Content-Type": "text/csv"},
    )
    assert _problem(unclosed, 422)["rule"] == "roster.csv"
    coerced = [
        {**one, "amount_fen": True},
        {**one, "amount_fen": "100"},
        {**one, "amount_fen": 1.0},
    ]
    for body in coerced:
        refused = await d.post(
            "/v1/disbursements",
            json=body,
            headers={**OFFICER, "Idempotency-Key": f"k-{uuid.uuid4()}"},
        )
        assert _problem(refused, 422)["field"] == "amount_fen", body
    member_id = await register(suite)
    births = await m.post(
        f"/v1/members/{member_id}/births",
        json={"birth_date": "2025-06-01", "birth_order": 2**63, "within_policy": True},
        headers=HR,
    )
    assert _problem(births, 422)["field"] == "birth_order"
    rich = household(member_id, 10**30)
    intake = await svc.client.post(
        "/v1/hardship/cases",
        json={"union": UNION, "source": "walk_in", "household": rich},
        headers=CASEWORKER,
    )
    assert "monthly_income_per_head_fen" in _problem(intake, 422)["field"]


async def test_tokens_of_the_wrong_shape_are_401(suite: Suite) -> None:
    from shared.tokens import LocalIssuer
    from tests.support import TEST_SETTINGS

    def token(**claims: Any) -> dict[str, str]:
        minted = LocalIssuer.default().issue(
            issuer=TEST_SETTINGS.jwt_issuer,
            audience=TEST_SETTINGS.jwt_audience,
            subject="x",
            roles=["finance_officer"],
            org=UNION,
            extra=claims,
        )
        return {"Authorization": f"Bearer {minted}"}

    for shape in ({"roles": [["admin"]]}, {"roles": "admin"}, {"roles": [{"admin": 1}]}):
        answer = await suite.members.client.get("/v1/members", headers=token(**shape))
        assert _problem(answer, 401)["status"] == 401, shape


async def test_a_benefit_of_a_workflow_is_paid_only_through_it(suite: Suite) -> None:
    """Finance officers and admins once paid hardship relief directly, around the register
    and its second pair of eyes."""
    member_id = await register(suite)
    for who in (OFFICER, bearer(Role.ADMIN, org=UNION), ADMIN):
        direct = await suite.disbursements.client.post(
            "/v1/disbursements",
            json={"member_id": member_id, "benefit": "hardship_relief", "amount_fen": 50000,
                  "business_date": "2026-03-01",
                  "details": {"relief_id": "r-made-up", "case_id": "c-made-up"}},
            headers={**who, "Idempotency-Key": f"k-{uuid.uuid4()}"},
        )  # fmt: skip
        assert _problem(direct, 422)["rule"] == "benefit.workflow-only"
    batch = await suite.disbursements.client.post(
        "/v1/disbursement-batches",
        json={"union": UNION, "benefit": "hardship_relief", "amount_fen": 50000,
              "business_date": "2026-03-01"},
        headers={**OFFICER, "Idempotency-Key": f"k-{uuid.uuid4()}"},
    )  # fmt: skip
    assert batch.status_code == 422, batch.text


async def test_a_draft_policy_that_could_not_be_decided_is_refused(suite: Suite) -> None:
    current = (
        await suite.entitlements.client.get("/v1/policies/shanxi-2025-26", headers=ADMIN)
    ).json()
    voucher = {**current["member_benefits"]["voucher"], "per_child_fen": {"1": 100}}
    draft = current | {
        "version": "draft-voucher-per-child",
        "member_benefits": {**current["member_benefits"], "voucher": voucher},
    }
    answer = await suite.entitlements.client.post(
        "/v1/policies/what-if", json={"draft": draft, "year": 2026}, headers=ADMIN
    )
    assert _problem(answer, 422)["status"] == 422
