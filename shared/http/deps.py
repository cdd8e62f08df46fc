"""FastAPI dependencies every service's routers use."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Depends, Request

from shared.http.language import Language, preferred
from shared.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    """Async, as every dependency here: a plain `def` would be run in a worker thread, a hop
    that costs more than most reads."""
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_language(request: Request) -> Language:
    """What a person reads (a history line, a report) in the language `Accept-Language` asks
    for: Chinese unless English is preferred."""
    return preferred(request.headers.get("accept-language"))


LanguageDep = Annotated[Language, Depends(get_language)]
C = TypeVar("C")


def typed_context(runtime: Runtime, kind: type[C]) -> C:
    """A service's own context, typed: the runtime holds every service's context untyped, and a
    runtime bootstrapped for another service fails loudly here."""
    found = runtime.context
    if not isinstance(found, kind):
        raise TypeError(f"the runtime holds a {type(found).__name__}, not a {kind.__name__}")
    return found
