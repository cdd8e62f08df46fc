"""The console in a real browser: a finance officer, a caseworker and a province admin sign in
on the local issuer's page and do their main tasks through pages that call the services running
on the real stack. Each page a person sees is kept as a screenshot in docs/."""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import uvicorn
from openpyxl import load_workbook
from playwright.async_api import Browser, Page, async_playwright, expect

from console.app import create_app
from console.settings import ConsoleSettings
from jinhui import browser as chromium
from jinhui.inprocess import RunningService
from shared.auth import Role
from shared.clock import FixedClock, business_date
from tests.integration.conftest import UNION as BASE_UNION
from tests.integration.conftest import Suite, register
from tests.integration.test_disbursements import member_known
from tests.integration.test_hardship import open_case
from tests.integration.test_payroll_results import gift, joined
from tests.support import bearer

DOCS = Path(__file__).resolve().parents[2] / "docs"
UNION = "shanxi/taiyuan/jinyuan/bu-0042"
WAIT_MS = 120_000  # a loaded machine may take a while; nothing here waits on a short clock
expect.set_options(timeout=WAIT_MS)  # assertions too (their own default is 5 s)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def console(suite: Suite, hardship: tuple[RunningService, FixedClock]) -> AsyncIterator[str]:
    """The console on a real port (the browser and the sign-in reach it over HTTP), calling the
    services inside this process."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    services = {
        "members": suite.members,
        "entitlements": suite.entitlements,
        "disbursements": suite.disbursements,
        "hardship": hardship[0],
    }
    settings = ConsoleSettings(
        environment="test",
        console_url=url,
        **{f"{name}_url": f"http://{name}" for name in services},
    )
    mounts: dict[str, httpx.AsyncBaseTransport] = {
        f"http://{name}": httpx.ASGITransport(app=svc.app) for name, svc in services.items()
    }
    app = create_app(settings, mounts)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the console did not start"
        await asyncio.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        await serving


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    folder = await asyncio.to_thread(chromium.install)
    async with async_playwright() as p:
        started = await p.chromium.launch(**chromium.launch_options(folder))
        yield started
        await started.close()


async def sign_in(browser: Browser, console: str, name: str, role: str, org: str) -> Page:
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    await page.goto(console)
    await page.get_by_role("link", name="登录 Sign in").click()
    await expect(page.get_by_role("heading", name="本地登录")).to_be_visible()
    await page.get_by_label("姓名 Name").fill(name)
    await page.get_by_label("角色 Role").select_option(role)
    await page.get_by_label("所在组织 Org").fill(org)
    await page.get_by_role("button", name="登录 Sign in").click()
    await expect(page.get_by_role("heading", name=f"您好，{name}")).to_be_visible()
    return page


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(DOCS / f"console-{name}.png"), full_page=True)


async def test_a_finance_officer_reads_ledgers_and_runs_a_batch_forecast_first(
    suite: Suite, console: str, browser: Browser
) -> None:
    units = [
        {"path": "shanxi/taiyuan/jinyuan", "name": "晋源区总工会", "kind": "county"},
        {"path": UNION, "name": "晋源区示范企业工会", "kind": "base"},
    ]
    added = await suite.members.client.put(
        "/v1/orgs", json={"units": units}, headers=bearer(Role.ADMIN, org="shanxi")
    )
    assert added.status_code == 200, added.text
    hr = bearer(Role.HR_INTEGRATION, org=UNION)
    member = await member_known(suite, headers=hr, base_union=UNION, name="赵晓梅")
    for i in range(3):
        await member_known(suite, headers=hr, base_union=UNION, name=f"孙职工{i}")
    page = await sign_in(browser, console, "李会计", "finance_officer", UNION)
    await shot(page, "home")

    await page.get_by_role("link", name="会员", exact=True).click()
    row = page.get_by_role("row").filter(has_text="赵晓梅")
    await expect(row).to_contain_text(UNION)
    await shot(page, "members")

    await row.get_by_role("link", name="权益台账").click()
    await expect(page.get_by_role("heading", name="权益台账")).to_contain_text(member)
    gifts = page.get_by_role("row").filter(has_text="节日慰问")
    await expect(gifts).to_contain_text("2,200.00 元")  # the yearly cap of clause 2, in yuan
    await shot(page, "ledger")

    # the dry run first: who would be paid and what it costs, nothing reserved yet
    await page.get_by_role("link", name="批量发放").first.click()
    await page.get_by_label("工会（及其下级）").fill(UNION)
    await page.get_by_label("福利项目").select_option("holiday_gift")
    await page.get_by_label("每人金额（元）").fill("300")
    await page.get_by_label("业务日期").fill(business_date(suite.clock).isoformat())
    await page.get_by_role("button", name="试算 Dry run").click()
    await expect(page.locator("#approved")).to_have_text("4")
    await expect(page.locator("#cost")).to_have_text("1,200.00 元")
    await shot(page, "batch-forecast")
    ledger = await suite.ledger(member, bearer(Role.AUDITOR, org="shanxi"))
    assert ledger is not None
    lines = {b["benefit"]: b for b in ledger.json()["benefits"]}
    assert lines["holiday_gift"]["reserved_fen"] == 0  # a forecast reserves nothing

    await page.get_by_role("button", name="确认发放 Run the batch").click()
    await expect(page.locator("#batch-done")).to_have_text("已完成")  # the bar, updated live
    await expect(page.locator("#progress")).to_contain_text("已处理 4 / 4 行")
    await shot(page, "batch")
    async with page.expect_download() as download:
        await page.get_by_role("link", name="下载明细（CSV）").click()
    saved = Path(await (await download.value).path())
    csv = await asyncio.to_thread(saved.read_text, encoding="utf-8-sig")
    assert "赵晓梅" in csv and "工号/employee_number" in csv
    async with page.expect_download() as download:
        await page.get_by_role("link", name="下载明细（Excel）").click()
    workbook = await asyncio.to_thread(Path(await (await download.value).path()).read_bytes)
    sheet = load_workbook(io.BytesIO(workbook)).active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(cells) == 5 and {c[5] for c in cells[1:]} == {Decimal(300)}  # yuan, as numbers

    # the union's own standards, with when each took effect and who set it
    officer = bearer(Role.FINANCE_OFFICER, org=UNION, subject="li-kuaiji")
    set_expiry = await suite.entitlements.client.put(
        f"/v1/unions/{UNION}/standards/voucher",
        json={"effective_from": "2026-03-01", "expiry_days": 30},
        headers=officer,
    )
    assert set_expiry.status_code == 200, set_expiry.text
    await page.get_by_role("link", name="本会标准").click()
    voucher = page.locator("#standards").get_by_role("row").filter(has_text="2026-03-01")
    await expect(voucher).to_contain_text("30 天内有效")

    # the officer sets the union's training standard in the form; above the ceiling is refused
    form = page.locator("form.standard")
    await form.get_by_label("福利项目").select_option(label="技能提升补贴")
    await expect(form.get_by_label("有效天数")).to_be_hidden()  # a voucher's value only
    await form.get_by_label("每次标准（元）").fill("6000")
    await form.get_by_role("button", name="保存标准").click()
    await expect(page.get_by_role("alert")).to_contain_text("5,000.00 元")
    await expect(page.get_by_role("alert")).to_contain_text("policy.ceiling")
    await page.go_back()
    form = page.locator("form.standard")
    await form.get_by_label("福利项目").select_option(label="技能提升补贴")
    await form.get_by_label("生效日期").fill(business_date(suite.clock).isoformat())
    await form.get_by_label("每次标准（元）").fill("800")
    await form.get_by_label("每人年度合计（元）").fill("1600")
    await form.get_by_label("更正原因").fill("职代会决议自本日起执行，补录")
    await form.get_by_role("button", name="保存标准").click()
    training = page.locator("#standards").get_by_role("row").filter(has_text="技能提升补贴")
    await expect(training).to_contain_text("800.00 元")
    await expect(training).to_contain_text("1,600.00 元")
    await expect(training).to_contain_text("职代会决议自本日起执行，补录")
    await shot(page, "standards")


async def test_a_caseworker_gives_a_reason_once_and_reads_a_file(
    suite: Suite, console: str, browser: Browser, hardship: tuple[RunningService, FixedClock]
) -> None:
    member_id = await register(suite)
    case_id = await open_case(hardship[0], member_id)
    page = await sign_in(browser, console, "王社工", "caseworker", "shanxi/taiyuan/xiaodian")
    await page.get_by_role("link", name="困难职工档案").first.click()
    await expect(page.get_by_role("link", name=case_id)).to_be_visible()
    await shot(page, "cases")

    await page.get_by_role("link", name=case_id).click()
    await expect(page.get_by_role("heading", name="查阅理由")).to_be_visible()
    await page.get_by_label("理由").fill("年度复核")
    await page.get_by_role("button", name="继续").click()
    await expect(page.get_by_role("heading", name="档案")).to_contain_text(case_id)
    await expect(page.get_by_text("查阅理由：年度复核")).to_be_visible()
    await shot(page, "case")
    auditor = bearer(Role.AUDITOR, org="shanxi")
    trail = await hardship[0].client.get(f"/v1/hardship/cases/{case_id}/audit", headers=auditor)
    reads = [(e["actor"], e["action"], e["why"]) for e in trail.json()]
    assert ("王社工", "read", "年度复核") in reads, reads  # the read is audited with its reason

    # the reason is asked once: the next file opens at once
    await page.goto(f"{console}/hardship/cases/{case_id}")
    await expect(page.get_by_role("heading", name="档案")).to_contain_text(case_id)

    # the file's steps, then relief above the threshold: it waits for a second person
    await page.get_by_label("理由").fill("入户走访核实")
    await page.get_by_role("button", name="评估", exact=True).click()
    await expect(page.locator(".facts")).to_contain_text("已评估")
    await page.get_by_role("button", name="列入档案").click()
    await expect(page.locator(".facts")).to_contain_text("在档")
    relief = page.locator("#relief-form")
    await relief.get_by_label("用途").fill("医疗费用")
    await relief.get_by_label("金额（元）").fill("3000")  # leaves the purpose's list of names
    await relief.get_by_role("button", name="申请").click()
    waiting = page.get_by_role("row").filter(has_text="3,000.00 元")
    await expect(waiting).to_contain_text("待复核人员审批")
    await expect(waiting.get_by_role("button", name="批准")).to_have_count(0)  # not by the asker

    # a reviewer finds it in the queue and approves it
    reviewer = await sign_in(browser, console, "赵复核", "reviewer", "shanxi/taiyuan/xiaodian")
    await reviewer.get_by_role("link", name="待审批救助").click()
    await reviewer.get_by_role("link", name=case_id).click()
    await reviewer.get_by_label("理由").fill("救助审批")
    await reviewer.get_by_role("button", name="继续").click()
    await shot(reviewer, "relief-approval")
    row = reviewer.get_by_role("row").filter(has_text="3,000.00 元")
    await row.get_by_role("button", name="批准").click()
    await expect(reviewer.get_by_role("row").filter(has_text="3,000.00 元")).to_contain_text(
        "已批准"
    )
    await reviewer.get_by_role("link", name="待审批救助").click()
    await expect(reviewer.get_by_role("link", name=case_id)).to_have_count(0)

    await page.get_by_role("link", name="预警名单").click()
    await expect(page.get_by_role("heading", name="预警名单")).to_be_visible()
    await shot(page, "watch-list")


async def test_a_caseworker_pays_emergency_relief_the_same_day(
    suite: Suite, console: str, browser: Browser, hardship: tuple[RunningService, FixedClock]
) -> None:
    member_id = await register(suite)
    page = await sign_in(browser, console, "王社工", "caseworker", "shanxi/taiyuan/xiaodian")
    await page.get_by_role("link", name="受理与应急").click()
    form = page.locator("#new-case")
    await form.get_by_label("基层工会").fill(BASE_UNION)
    await form.get_by_label("城市（低保标准）").fill("taiyuan")
    await form.get_by_label("申请人姓名").fill("张师傅")
    await form.get_by_label("会员编号", exact=True).fill(member_id)
    await form.get_by_label("家庭月人均收入（元）").fill("900")
    await form.get_by_label("自然灾害").check()
    await form.get_by_label("家庭成员1姓名").fill("李秀英")
    await form.get_by_label("家庭成员1关系").select_option(label="配偶")
    await form.get_by_role("button", name="再加一人").click()
    await form.get_by_label("家庭成员2姓名").fill("张小明")
    await form.get_by_label("家庭成员2关系").select_option(label="子女")
    await form.get_by_label("用途").fill("火灾损失")
    await form.get_by_label("金额（元）").fill("1000")  # leaves the purpose's list of names
    await shot(page, "emergency")
    await form.get_by_role("button", name="应急救助（当日发放）").click()
    await page.get_by_label("理由").fill("火灾应急救助")
    await page.get_by_role("button", name="继续").click()
    await expect(page.locator(".facts")).to_contain_text("应急救助")
    paid = page.get_by_role("row").filter(has_text="1,000.00 元")
    await expect(paid).to_contain_text("已批准")  # within the threshold: paid the same day
    household = page.locator("#household")
    await expect(household.get_by_role("row")).to_have_count(4)  # header, applicant, two more
    await expect(household.get_by_role("row").filter(has_text="张小明")).to_contain_text("子女")


async def test_a_province_admin_sees_uptake_and_a_refusal_in_words(
    suite: Suite, console: str, browser: Browser
) -> None:
    county, union = "shanxi/taiyuan/jiancaoping", "shanxi/taiyuan/jiancaoping/bu-0007"
    units = [
        {"path": county, "name": "尖草坪区总工会", "kind": "county"},
        {"path": union, "name": "尖草坪区机械厂工会", "kind": "base"},
    ]
    added = await suite.members.client.put(
        "/v1/orgs", json={"units": units}, headers=bearer(Role.ADMIN, org="shanxi")
    )
    assert added.status_code == 200, added.text
    member = await joined(suite, union)
    officer = bearer(Role.FINANCE_OFFICER, org=union)
    for fen, status in ((25_000, "issued"), (10_000, "rejected")):  # the cap is 30,000 fen
        decided = await gift(suite, member, "culture_tourism_product", fen, officer)
        assert decided["status"] == status, decided

    page = await sign_in(browser, console, "省总管理员", "admin", "shanxi")
    await page.get_by_role("link", name="十项措施落实情况").first.click()
    await expect(page.get_by_role("heading", name="十项措施落实情况")).to_be_visible()
    await page.get_by_label("年度").fill("2026")
    await page.get_by_role("button", name="查看").click()
    place = page.locator("table.uptake").get_by_role("row").filter(has_text="尖草坪区总工会")
    await expect(place).to_contain_text("1 人 / 250.00 元 / 1 笔")  # reached, paid, refused
    refused = page.locator("#refusals").get_by_role("row").filter(has_text="尖草坪区总工会")
    await expect(refused).to_contain_text("4.culture-tourism")
    await expect(refused).to_contain_text("cap.exceeded")
    await expect(page.get_by_role("heading", name="困难职工档案（在档，按类别）")).to_be_visible()
    await shot(page, "uptake")

    # a draft that halves nothing changes nothing: the what-if answers for the year
    await page.get_by_role("link", name="政策试算").click()
    await page.get_by_label("年度").fill("2026")
    await page.get_by_role("button", name="试算").click()
    await expect(page.locator("#what-if-summary")).to_contain_text("2026 年共")
    await expect(page.locator("#changed")).to_have_text("0")
    await shot(page, "what-if")

    outsider = await sign_in(browser, console, "外单位", "finance_officer", "shanxi/datong")
    await outsider.goto(f"{console}/disbursements/no-such-disbursement")
    await expect(outsider.get_by_role("alert")).to_contain_text("no-such-disbursement")
