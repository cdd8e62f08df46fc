"""Dependencies of the hardship API (`…Dep` aliases): the service's own context, typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.hardship.service_layer.handlers import HardshipContext
from shared.http.deps import RuntimeDep
from shared.runtime import Runtime


def context(runtime: Runtime) -> HardshipContext:
    """The runtime holds every service's context untyped; this service's routers read it here,
    typed (and checked: a runtime bootstrapped for another service fails loudly)."""
    found = runtime.context
    if not isinstance(found, HardshipContext):
        raise TypeError(f"the runtime holds a {type(found).__name__}, not a HardshipContext")
    return found


def _context(runtime: RuntimeDep) -> HardshipContext:
    return context(runtime)


ContextDep = Annotated[HardshipContext, Depends(_context)]
