"""A union's own standards: what governs its members (its own and those inherited), and the
form that sets one from a date on, or corrects one from a past date with its reason.

Which benefits a union may set, and which values, is read from the policy in force
(`union_may_set`); the API checks every value against the provincial ceiling and says which
clause refuses it."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from console.pages.common import BackendDep, PersonDep, fen_from_yuan, page, policy_in_force, today

router = APIRouter(include_in_schema=False)
# How each settable value is asked for: its label, and whether it is money (yuan → fen).
VALUES = {
    "amount_fen": ("每人金额（元）", True),
    "expiry_days": ("有效天数", False),
    "standard_fen": ("每次标准（元）", True),
    "yearly_total_fen": ("每人年度合计（元）", True),
}
Money = Annotated[str, Form(max_length=20)]


@router.get("/standards", response_class=HTMLResponse, name="standards")
async def standards(
    request: Request,
    who: PersonDep,
    api: BackendDep,
    union: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """The standards that govern a union's members, its own and those inherited, each with
    when it took effect, who set it and why it was corrected."""
    union = union or who.org
    found = await api.get("entitlements", f"/v1/unions/{quote(union)}/standards", who.token)
    policy = await policy_in_force(api, who.token) or {"member_benefits": {}}
    rules = policy["member_benefits"]
    titles = {name: rule.get("title", name) for name, rule in rules.items()}
    settable = {
        name: {"title": titles[name], "values": rule["union_may_set"]}
        for name, rule in rules.items()
        if rule.get("union_may_set")
    }
    rows = sorted(found, key=lambda s: (s["benefit"], s["effective_from"], s.get("set_on") or ""))
    return page(
        request,
        "standards.html",
        who,
        union=union,
        rows=rows,
        titles=titles,
        settable=settable,
        values=VALUES,
        today=today().isoformat(),
    )


@router.post("/standards", name="set_standard")
async def set_standard(
    who: PersonDep,
    api: BackendDep,
    union: Annotated[str, Form(min_length=1, max_length=200)],
    benefit: Annotated[str, Form(min_length=1, max_length=50)],
    effective_from: Annotated[str, Form(min_length=10, max_length=10)],
    correction_reason: Annotated[str, Form(max_length=300)] = "",
    amount_fen: Money = "",
    expiry_days: Annotated[str, Form(max_length=5)] = "",
    standard_fen: Money = "",
    yearly_total_fen: Money = "",
) -> RedirectResponse:
    """Only the values filled in are sent. With a reason it is a correction, which may reach
    back into the open books; without, the standard takes effect no earlier than today."""
    given = {
        "amount_fen": amount_fen,
        "expiry_days": expiry_days,
        "standard_fen": standard_fen,
        "yearly_total_fen": yearly_total_fen,
    }
    body: dict[str, Any] = {"effective_from": effective_from}
    for name, text in given.items():
        if text.strip():
            body[name] = fen_from_yuan(text) if VALUES[name][1] else _days(text)
    path = f"/v1/unions/{quote(union)}/standards/{quote(benefit, safe='')}"
    if correction_reason.strip():
        body["reason"] = correction_reason.strip()
        await api.post("entitlements", f"{path}/corrections", who.token, body)
    else:
        await api.call("entitlements", "PUT", path, who.token, json=body)
    return RedirectResponse(f"/standards?union={quote(union)}", 303)


def _days(text: str) -> int:
    """A whole number of days; anything else goes to the API as 0, which it refuses by name."""
    value = text.strip()
    return int(value) if value.isdigit() and len(value) <= 5 else 0
