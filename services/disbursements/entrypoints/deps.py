"""Dependencies of the disbursements API (`…Dep` aliases): the service's own context, typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.disbursements.service_layer.handlers import DisbursementsContext
from shared.http.deps import RuntimeDep
from shared.runtime import Runtime


def context(runtime: Runtime) -> DisbursementsContext:
    """The runtime holds every service's context untyped; this service's routers read it here,
    typed (and checked: a runtime bootstrapped for another service fails loudly)."""
    found = runtime.context
    if not isinstance(found, DisbursementsContext):
        raise TypeError(f"the runtime holds a {type(found).__name__}, not a DisbursementsContext")
    return found


def _context(runtime: RuntimeDep) -> DisbursementsContext:
    return context(runtime)


ContextDep = Annotated[DisbursementsContext, Depends(_context)]
