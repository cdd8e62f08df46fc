"""Every service starts on the real stack, reports ready and publishes its OpenAPI page."""

from __future__ import annotations

import pytest

from shared.inprocess import running_service
from shared.localstack import SERVICES, Stack
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
