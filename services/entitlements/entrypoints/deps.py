"""Dependencies of the entitlements API (`…Dep` aliases): the service's own context, typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.entitlements.service_layer.context import EntitlementsContext
from shared.http.deps import RuntimeDep
from shared.runtime import Runtime


def context(runtime: Runtime) -> EntitlementsContext:
    """The runtime holds every service's context untyped; this service's routers read it here,
    typed (and checked: a runtime bootstrapped for another service fails loudly)."""
    found = runtime.context
    if not isinstance(found, EntitlementsContext):
        raise TypeError(f"the runtime holds a {type(found).__name__}, not a EntitlementsContext")
    return found


def _context(runtime: RuntimeDep) -> EntitlementsContext:
    return context(runtime)


ContextDep = Annotated[EntitlementsContext, Depends(_context)]
