"""Dependencies of the members API (`…Dep` aliases): the service's own context, typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.members.service_layer.handlers import MembersContext
from shared.http.deps import RuntimeDep
from shared.runtime import Runtime


def context(runtime: Runtime) -> MembersContext:
    """The runtime holds every service's context untyped; this service's routers read it here,
    typed (and checked: a runtime bootstrapped for another service fails loudly)."""
    found = runtime.context
    if not isinstance(found, MembersContext):
        raise TypeError(f"the runtime holds a {type(found).__name__}, not a MembersContext")
    return found


def _context(runtime: RuntimeDep) -> MembersContext:
    return context(runtime)


ContextDep = Annotated[MembersContext, Depends(_context)]

MembersContextDep = ContextDep  # the name the members routers use
