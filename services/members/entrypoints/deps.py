"""Dependencies of the members API (`…Dep` aliases): the service's own context, typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.members.service_layer.handlers import MembersContext
from shared.http.deps import RuntimeDep, typed_context
from shared.runtime import Runtime


def context(runtime: Runtime) -> MembersContext:
    return typed_context(runtime, MembersContext)


async def _context(runtime: RuntimeDep) -> MembersContext:
    return context(runtime)


ContextDep = Annotated[MembersContext, Depends(_context)]

MembersContextDep = ContextDep  # the name the members routers use
