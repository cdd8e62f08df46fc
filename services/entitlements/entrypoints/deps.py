"""Dependencies of the entitlements API (`…Dep` aliases): the service's own context, typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.entitlements.service_layer.context import EntitlementsContext
from shared.http.deps import RuntimeDep, typed_context
from shared.runtime import Runtime


def context(runtime: Runtime) -> EntitlementsContext:
    return typed_context(runtime, EntitlementsContext)


async def _context(runtime: RuntimeDep) -> EntitlementsContext:
    return context(runtime)


ContextDep = Annotated[EntitlementsContext, Depends(_context)]
