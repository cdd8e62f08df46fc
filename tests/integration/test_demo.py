"""`jinhui demo` lives through a year to the end and writes a report a union chair can read."""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from jinhui.localstack import Stack
from services.entitlements.domain.policy import load_bundled_policies
from shared.db.engine import asyncpg_dsn, with_database
from shared.kafka.topics import PAYROLL_BENEFITS
from tests.support import embedded_characters


def _demo_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("jinhui-demo-*"))


def _issued(page: str, benefit: str) -> int:
    found = re.search(
        rf"<small>{benefit}</small></td><td class=n>[^<]*</td><td class=n>([\d,]+)</td>", page
    )
    assert found, benefit
    return int(found.group(1).replace(",", ""))


def test_a_small_demo_year_runs_to_the_end_and_reports(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    temporary = _demo_folders()
    done = subprocess.run(
        [sys.executable, "-m", "jinhui.cli", "demo", "--members", "20", "--no-open",
         "--out", str(report)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "JINHUI_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "已发放 issued" in done.stdout
    assert _demo_folders() <= temporary  # its own server's folder is removed
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and 'lang="zh-CN"' in page
    assert "《山西省总工会加大工会经费投入力度助力职工消费十项措施》" in page  # the notice's title
    assert "<h1>小店区物流园工会联合会 " in page  # the union by its Chinese name
    for heading in ("十项措施执行情况", "工会层面规则", "每月支出", "困难职工档案", "未通过的申请"):
        assert heading in page
    policy = load_bundled_policies().in_force(date(2026, 12, 31))
    for rule in [*policy.member_benefits.values(), *policy.union_rules.values()]:
        assert rule.title in page, rule.title  # every measure of the notice, by its name
    for benefit in ("recuperation", "training_subsidy", "nef_injury_insurance", "voucher"):
        assert _issued(page, benefit) >= 1, benefit
    assert page.count("<svg") == 3 and "<line" in page  # charts with axes
    assert "7.holiday" in page and "超过" in page  # the National Day plan, refused in words
    assert re.search(r"\d{1,3}(,\d{3})+\.\d{2} 元", page)  # yuan with thousands separators
    issued = re.search(r"已发放 issued</th><td class=n>([\d,]+) 笔", page)
    assert issued and int(issued.group(1).replace(",", "")) > 20
    paid = re.search(r"其中已支付 paid by payroll</th><td class=n>([\d,]+) 笔", page)
    assert paid and 0 < int(paid.group(1).replace(",", "")) <= int(issued.group(1).replace(",", ""))
    assert "其中支付失败 payment failed" in page  # the pay run's answers, told apart
    shown = re.sub(r"<style>.*?</style>|<[^>]+>", "", page, flags=re.S)
    missing = {c for c in html.unescape(shown) if ord(c) > 0x2E7F} - embedded_characters(page)
    assert not missing, sorted(missing)  # every Chinese character has its glyph in the page


async def test_the_demo_uses_a_running_stacks_server_and_leaves_nothing_behind(
    tmp_path: Path, stack: Stack
) -> None:
    """As after `make run`: `.jinhui/stack.json` names the server; the demo's databases live
    there for the run and are dropped at the end, and no temporary server is started. With
    KAFKA_BOOTSTRAP_SERVERS naming a cluster, the demo still uses its own broker: not one
    message lands in the cluster's payroll topic."""
    home = tmp_path / "home"
    home.mkdir()
    stack.describe(home / "stack.json")
    before = _demo_folders()
    payroll_before = await _end_offsets(stack.bootstrap_servers, PAYROLL_BENEFITS)
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jinhui.cli", "demo", "--members", "6", "--no-open",
        "--out", str(tmp_path / "report.html"),
        env={**os.environ, "JINHUI_HOME": str(home),
             "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(done.communicate(), 600)
    finally:
        if done.returncode is None:  # timed out: leave no demo running behind the test
            done.kill()
            await done.wait()
    assert done.returncode == 0, output.decode()[-3000:]
    after = await _end_offsets(stack.bootstrap_servers, PAYROLL_BENEFITS)
    landed = await _members_paid(stack.bootstrap_servers, PAYROLL_BENEFITS, payroll_before, after)
    registry = await asyncpg.connect(asyncpg_dsn(stack.database_urls["members"]))
    try:  # other tests' payments may still land meanwhile: none is for a demo member
        known = await registry.fetch(
            "SELECT member_id FROM members WHERE member_id = ANY($1::text[])", sorted(landed)
        )
    finally:
        await registry.close()
    assert {r["member_id"] for r in known} == landed
    assert "using the running stack's PostgreSQL" in output.decode()
    assert _demo_folders() <= before  # nothing left in the temporary folder
    server = with_database(stack.database_urls["members"], "postgres")
    conn = await asyncpg.connect(asyncpg_dsn(server))
    try:
        left = await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'jinhui_demo%'")
    finally:
        await conn.close()
    assert left == []


async def _members_paid(
    bootstrap_servers: str, topic: str, since: dict[int, int], until: dict[int, int]
) -> set[str]:
    """The members named by the messages a topic received between two sets of end offsets."""
    moved = {p: (since.get(p, 0), end) for p, end in until.items() if end > since.get(p, 0)}
    if not moved:
        return set()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    found: set[str] = set()
    try:
        consumer.assign([TopicPartition(topic, p) for p in moved])
        for p, (start, _) in moved.items():
            consumer.seek(TopicPartition(topic, p), start)
        left = {p: end - start for p, (start, end) in moved.items()}
        while any(n > 0 for n in left.values()):
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, records in batches.items():
                for record in records:
                    if record.offset < moved[tp.partition][1]:
                        left[tp.partition] -= 1
                        found.add(json.loads(record.value)["member_id"])
    finally:
        await consumer.stop()
    return found


async def _end_offsets(bootstrap_servers: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers)
    await consumer.start()
    try:
        await consumer.topics()  # the cluster's metadata, partitions included
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = await consumer.end_offsets(partitions)
        return {tp.partition: end for tp, end in ends.items()}
    finally:
        await consumer.stop()
