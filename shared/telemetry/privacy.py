"""Personal data never reaches a log line or a span.

Statement parameters are never logged (the engines set `hide_parameters`). What a database
error says about a row ("Failing row contains (…)", "Key (id_hash)=(…) already exists") is cut
out of every log record and every exported span; a URL's query keeps its parameter names and
loses their values (`/v1/members?name=&employee_number=`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status

_ROW_DETAILS = [
    (re.compile(r"Failing row contains \(.*?\)(?=\.?\s|$)", re.S), "Failing row contains (…)"),
    (re.compile(r"Key \((.*?)\)=\(.*?\)", re.S), r"Key (\1)=(…)"),
    (re.compile(r"\[parameters: .*?\]\n?", re.S), "[parameters hidden]\n"),
    (re.compile(r"DETAIL:\s+.*?(?=\n|$)"), "DETAIL: (hidden)"),
]
_URL_ATTRIBUTES = ("http.url", "http.target", "url.full", "url.query")


def scrub(text: str) -> str:
    for pattern, replacement in _ROW_DETAILS:
        text = pattern.sub(replacement, text)
    return text


def query_names_only(url: str) -> str:
    """The URL with every query value dropped: which searches were made, not for whom."""
    if "?" not in url and "=" not in url:
        return url
    if url.startswith(("http://", "https://", "/")):
        parts = urlsplit(url)
        names = [(k, "") for k, _ in parse_qsl(parts.query, keep_blank_values=True)]
        return urlunsplit(parts._replace(query=urlencode(names)))
    return urlencode([(k, "") for k, _ in parse_qsl(url, keep_blank_values=True)])


class ScrubbingFilter(logging.Filter):
    """On a handler: the message and the formatted exception lose row details."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            formatter = logging.Formatter()
            record.exc_text = scrub(formatter.formatException(record.exc_info))
            record.exc_info = None
        for name in ("detail", "error_message"):
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, scrub(value))
        return True


def drop_query_values(span: Any, scope: object = None) -> None:
    """The ASGI instrumentation's request hook: runs after it set the URL attributes."""
    attributes = getattr(span, "attributes", None) or {}
    for name in _URL_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str):
            span.set_attribute(name, query_names_only(value))


class QueryValuesDropped(SpanProcessor):
    """At the start of a server span its URL attributes are set: keep the names only."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for name in _URL_ATTRIBUTES:
            value = (span.attributes or {}).get(name)
            if isinstance(value, str):
                span.set_attribute(name, query_names_only(value))


class ScrubbingExporter(SpanExporter):
    """Exports copies of the spans whose status, events and attributes hold no row details."""

    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([scrubbed_span(s) for s in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


def _clean(attributes: object) -> dict[str, object]:
    found = dict(attributes or {})  # type: ignore[call-overload]
    return {k: scrub(v) if isinstance(v, str) else v for k, v in found.items()}


def scrubbed_span(span: ReadableSpan) -> ReadableSpan:
    from opentelemetry.sdk.trace import Event

    status = span.status
    if status.description:
        status = Status(status.status_code, scrub(status.description))
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_clean(span.attributes),  # type: ignore[arg-type]
        events=[
            Event(e.name, _clean(e.attributes), e.timestamp)  # type: ignore[arg-type]
            for e in span.events
        ],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
