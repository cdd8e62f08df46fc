"""The edge every request crosses before a router sees it: limits that are part of the contract.

- A body is at most `MAX_BODY_BYTES` (1 MiB); a path may allow more (a roster CSV). Past the
  limit: 413, and the rest is never read.
- No NUL character anywhere (path, query, JSON strings or keys): PostgreSQL cannot store it, and
  no legitimate union data holds one. 422 naming where it was.
- JSON nested at most `MAX_DEPTH` levels deep. 422.

Answers are problem+json, like every other error; the offending value is never echoed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http import language
from shared.http.problems import MEDIA_TYPE, PROBLEM_TYPE_BASE

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32


class _Refused(Exception):
    def __init__(self, status: int, rule: str, field: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.rule, self.field, self.detail = status, rule, field, detail


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        larger_bodies: Sequence[tuple[str, int]] = (),
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.larger = [(re.compile(pattern), limit) for pattern, limit in larger_bodies]
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_path_and_query(scope)
            body = await self._read_body(scope, receive)
            _check_json(scope, body)
        except _Refused as no:
            await _refuse(scope, send, no)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _limit(self, path: str) -> int:
        for pattern, limit in self.larger:
            if pattern.fullmatch(path):
                return limit
        return self.max_body_bytes

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self._limit(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _Refused(413, "input.body-too-large", "(body)", _too_large(limit))
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _Refused(413, "input.body-too-large", "(body)", _too_large(limit))
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks)


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit:,} bytes"


def _check_path_and_query(scope: Scope) -> None:
    if "\x00" in scope["path"]:
        raise _Refused(422, "input.nul", "(path)", "the path holds a NUL character")
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            where = "query." + name.replace("\x00", "")
            raise _Refused(422, "input.nul", where, "a query parameter holds a NUL character")


# Bodies the services read: JSON everywhere, a CSV roster on the import.
_READABLE = (b"text/csv", b"text/plain")


def _check_json(scope: Scope, body: bytes) -> None:
    """Media types compared as RFC 9110 says, case-insensitively; a body of any other type is
    refused before anything parses it, and whatever parses as JSON is walked, whatever it
    claims to be."""
    if not body:
        return
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
    media = content_type.split(b";", 1)[0].strip().lower()
    if media and not (media.endswith(b"/json") or media.endswith(b"+json") or media in _READABLE):
        raise _Refused(
            415,
            "input.media-type",
            "Content-Type",
            "the body must be application/json (a roster: text/csv)",
        )
    if b"\x00" in body:
        raise _Refused(422, "input.nul", "(body)", "the body holds a NUL character")
    try:
        data = json.loads(body)
    except RecursionError:
        raise _Refused(422, "input.too-deep", "(body)", _too_deep()) from None
    except ValueError:
        return  # not JSON: the router answers that, naming the position
    found = _walk(data, "", 0)
    if found is not None:
        raise found


def _too_deep() -> str:
    return f"the JSON body is nested more than {MAX_DEPTH} levels deep"


def _walk(value: Any, where: str, depth: int) -> _Refused | None:
    if depth > MAX_DEPTH:
        return _Refused(422, "input.too-deep", where or "(body)", _too_deep())
    if isinstance(value, str):
        if "\x00" in value:
            return _Refused(422, "input.nul", where or "(body)", "a string holds a NUL character")
        return None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return _Refused(422, "input.nul", where or "(body)", "a key holds a NUL character")
            items.append((f"{where}.{key}" if where else key, item))
    elif isinstance(value, list):
        items = [(f"{where}[{i}]", item) for i, item in enumerate(value)]
    for path, item in items:
        found = _walk(item, path, depth + 1)
        if found is not None:
            return found
    return None


_KINDS = {
    413: ("payload-too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


async def _refuse(scope: Scope, send: Send, no: _Refused) -> None:
    accept = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
    lang = language.preferred(accept)
    code, english = _KINDS.get(no.status, ("invalid-input", "The request is not valid"))
    body = json.dumps(
        {
            "type": PROBLEM_TYPE_BASE + code,
            "title": language.title(code, english, lang),
            "status": no.status,
            "detail": language.detail(no.detail, code, no.rule, lang),
            "instance": scope["path"].replace("\x00", ""),
            "field": no.field,
            "rule": no.rule,
        },
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": no.status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"content-language", lang.encode()),
                (b"vary", b"Accept-Language"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
