"""Dependencies of the members API (`…Dep` aliases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.members.service_layer.handlers import MembersContext
from shared.http.deps import RuntimeDep


def _context(runtime: RuntimeDep) -> MembersContext:
    return runtime.context


MembersContextDep = Annotated[MembersContext, Depends(_context)]
