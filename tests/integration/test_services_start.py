"""Every service starts on the real stack, reports ready and publishes its OpenAPI page."""

from __future__ import annotations

import re

import pytest

from jinhui.inprocess import running_service
from jinhui.localstack import SERVICES, Stack
from tests.support import eventually


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_service_is_ready_and_documented(stack: Stack, name: str) -> None:
    async with running_service(name, stack) as service:

        async def ready() -> bool:
            return (await service.client.get("/readyz")).status_code == 200

        await eventually(ready)  # the broker connection is made in the background
        openapi = (await service.client.get("/openapi.json")).json()
        assert openapi["info"]["title"] == f"Jinhui {name}"
        assert "/healthz" in openapi["paths"]
        for url in ("/docs", "/redoc"):
            page = await service.client.get(url)
            assert page.status_code == 200
            hosts = set(re.findall(r"(?:src|href)=['\"](?:https?:)?//([^/'\"]+)", page.text))
            assert hosts == set()  # the page needs nothing from outside: it opens offline
            assets = re.findall(r"/docs-assets/[\w.-]+", page.text)
            assert assets
            for asset in assets:
                assert (await service.client.get(asset)).status_code == 200, asset
