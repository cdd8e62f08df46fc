"""The year as the report shows it, read through the services' own APIs and tables."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from jinhui.demo.report import Measure, Refusal, UnionRule, Year
from jinhui.demo.runner import UNION, Services, headers, until
from services.disbursements.adapters.tables import disbursements
from services.disbursements.domain.model import SPENT
from shared.auth import Role
from shared.money import yuan_text


# Long on purpose: the report's figures read in the order the report shows them.
async def collect(s: Services, year: int, hardship: dict[str, list[int]]) -> Year:
    """The year as the report shows it, read through the services' own APIs and tables."""

    async def nothing_pending() -> bool:
        async with s.disbursements.runtime.sessions() as session:
            pending = await session.scalar(
                select(func.count()).where(disbursements.c.status == "pending")
            )
        return not pending

    async def all_answered() -> bool:
        async with s.disbursements.runtime.sessions() as session:
            waiting = await session.scalar(
                select(func.count()).where(disbursements.c.status == "issued")
            )
        return not waiting

    await until(nothing_pending)
    await until(all_answered)  # the pay run has answered every entry
    d = disbursements.c
    async with s.disbursements.runtime.sessions() as session:
        issued = {
            b: (int(n), int(f or 0))
            for b, n, f in (
                await session.execute(
                    select(d.benefit, func.count(), func.sum(d.amount_fen))
                    .where(d.status.in_(SPENT))
                    .group_by(d.benefit)
                )
            ).tuples()
        }
        refused = (
            (
                await session.execute(
                    select(d.clause, d.rule, func.count(), func.min(d.reason))
                    .where(d.status == "rejected")
                    .group_by(d.clause, d.rule)
                    .order_by(func.count().desc())
                )
            )
            .tuples()
            .all()
        )
        statuses: dict[str, int] = dict(
            (await session.execute(select(d.status, func.count()).group_by(d.status)))
            .tuples()
            .all()
        )
    auditor = headers(Role.AUDITOR)
    spending = await s.disbursements.client.get(
        "/v1/finance/spending", params={"year": year, "union": UNION}, headers=auditor
    )
    monthly = [0] * 12
    for row in spending.json():
        monthly[int(row["month"]) - 1] += int(row["issued_fen"])
    ledger = await s.entitlements.client.get(f"/v1/unions/{UNION}/ledgers/{year}", headers=auditor)
    policy = s.entitlements.runtime.context.policies.in_force(date(year, 12, 31))
    titles = {rule.clause: rule.title for rule in policy.member_benefits.values()}
    titles |= {rule.clause: rule.title for rule in policy.union_rules.values()}
    total = sum(f for _, f in issued.values())
    units = await s.members.client.get("/v1/orgs", params={"root": UNION}, headers=auditor)
    names = {u["path"]: u["name"] for u in units.json()} if units.status_code == 200 else {}
    return Year(
        union=UNION,
        union_name=names.get(UNION, UNION),
        year=year,
        members=len(s.member_ids),
        summary=[
            ("会员人数 members", f"{len(s.member_ids):,}"),
            ("已发放 issued", f"{sum(statuses.get(k, 0) for k in SPENT):,} 笔"),
            ("其中已支付 paid by payroll", f"{statuses.get('paid', 0):,} 笔"),
            (
                "其中支付失败 payment failed（待财务重发或取消）",
                f"{statuses.get('payment_failed', 0):,} 笔",
            ),
            ("未通过 refused", f"{statuses.get('rejected', 0):,} 笔"),
            ("已冲回 reversed（过期未用的消费券、更正）", f"{statuses.get('reversed', 0):,} 笔"),
            ("全年发放总额 paid in total", yuan_text(total)),
        ],
        measures=[
            Measure(
                clause=rule.clause,
                title=rule.title,
                benefit=benefit,
                cap_fen=rule.cap_fen if rule.yearly_cap else None,
                max_count=rule.max_count,
                used_fen=issued.get(benefit, (0, 0))[1],
                issued=issued.get(benefit, (0, 0))[0],
            )
            for benefit, rule in policy.member_benefits.items()
        ],
        union_rules=[
            UnionRule(
                title=line["title"],
                clause=line["clause"],
                kind=line["kind"],
                limit_fen=line["limit_fen"],
                used_fen=line["used_fen"],
                left_fen=line["remaining_fen"]
                if line["kind"] == "ceiling"
                else line["still_to_spend_fen"],
            )
            for line in ledger.json().get("lines", [])
        ],
        monthly_fen=monthly,
        hardship=hardship,
        refusals=[
            Refusal(
                clause=clause or "-",
                title=titles.get(clause or "", clause or "-"),
                rule=rule or "-",
                count=int(n),
                reason=reason or "",
            )
            for clause, rule, n, reason in refused
        ],
    )
