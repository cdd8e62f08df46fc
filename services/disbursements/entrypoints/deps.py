"""Dependencies of the disbursements API (`…Dep` aliases): the service's own context, typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.disbursements.service_layer.handlers import DisbursementsContext
from shared.http.deps import RuntimeDep, typed_context
from shared.runtime import Runtime


def context(runtime: Runtime) -> DisbursementsContext:
    return typed_context(runtime, DisbursementsContext)


async def _context(runtime: RuntimeDep) -> DisbursementsContext:
    return context(runtime)


ContextDep = Annotated[DisbursementsContext, Depends(_context)]
