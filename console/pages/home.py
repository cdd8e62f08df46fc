"""The first page: what this person can do here, by role."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from console.backend import SignInNeeded
from console.pages.common import page
from console.signin import person

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse, name="home")
async def home(request: Request) -> HTMLResponse:
    try:
        who = person(request)
    except SignInNeeded:
        return page(request, "welcome.html", None)
    return page(request, "home.html", who)
