"""What every page needs: the signed-in person, the services, and the page renderer."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from console.backend import Backend, ServiceProblem
from console.signin import Person, person

PersonDep = Annotated[Person, Depends(person)]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def backend(request: Request) -> Backend:
    return request.app.state.backend


BackendDep = Annotated[Backend, Depends(backend)]


def page(
    request: Request, template: str, who: Person | None, status: int = 200, **values: Any
) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, template, {"person": who, **values}, status
    )


def today() -> date:
    """The business date people mean by today: Asia/Shanghai's."""
    return datetime.now(SHANGHAI).date()


def needs(who: Person, *roles: str) -> None:
    """A page for other roles answers as the API would: 403, with the roles named."""
    if not who.has(*roles):
        raise ServiceProblem(
            status=403,
            title="无权访问 Forbidden",
            detail="此页面需要以下角色之一：" + "、".join(roles),
            rule="auth.role",
        )


def fen_from_yuan(yuan: str) -> int:
    """An amount typed in yuan (up to two decimals), as exact fen; the API bounds it."""
    try:
        value = Decimal(yuan.strip().replace(",", ""))
    except InvalidOperation:
        raise ServiceProblem(
            422, "金额无效 Invalid amount", f"金额须为元，最多两位小数：{yuan[:20]}", field="amount"
        ) from None
    fen = value * 100
    if fen != fen.to_integral_value() or not value.is_finite():
        raise ServiceProblem(
            422, "金额无效 Invalid amount", "金额最多两位小数（分）", field="amount"
        )
    return int(fen)


async def policy_in_force(api: Backend, token: str) -> dict[str, Any] | None:
    """The policy version in force today (Asia/Shanghai), whole, as the API publishes it."""
    versions = await api.get("entitlements", "/v1/policies", token)
    in_force = [v for v in versions if v["effective_from"] <= today().isoformat()]
    if not in_force:
        return None
    latest = max(in_force, key=lambda v: v["effective_from"])
    found: dict[str, Any] = await api.get(
        "entitlements", f"/v1/policies/{quote(latest['version'])}", token
    )
    return found
