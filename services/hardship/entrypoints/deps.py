"""Dependencies of the hardship API (`…Dep` aliases): the service's own context, typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.hardship.service_layer.handlers import HardshipContext
from shared.http.deps import RuntimeDep, typed_context
from shared.runtime import Runtime


def context(runtime: Runtime) -> HardshipContext:
    return typed_context(runtime, HardshipContext)


async def _context(runtime: RuntimeDep) -> HardshipContext:
    return context(runtime)


ContextDep = Annotated[HardshipContext, Depends(_context)]
