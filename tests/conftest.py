"""Session-wide real parts: one PostgreSQL and one Kafka-protocol broker for the whole run.

Both are the embedded defaults unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS name external ones.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from jinhui.localstack import Stack
from shared.telemetry import configure_tracing

os.environ.setdefault("ENVIRONMENT", "test")

# Every failing example hypothesis finds is kept beside the tests, in the repository, and tried
# first on every later run (commit it with the fix): a failure once found is never lost to
# chance. Shrunk failures print the blob that replays them.
settings.register_profile(
    "jinhui",
    database=DirectoryBasedExampleDatabase(Path(__file__).parent / "hypothesis-examples"),
    print_blob=True,
)
settings.load_profile("jinhui")


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    """Every span of every trace (the tests follow traces whole; the default keeps a share,
    and every failed or slow entry: tests/unit/test_trace_sampling.py)."""
    os.environ.setdefault("OTEL_TRACES_SAMPLER", "parentbased_always_on")
    exporter = InMemorySpanExporter()
    configure_tracing("jinhui-tests", None, SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture(scope="session")
def stack_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def stack_sync(stack_folder: Path, spans: InMemorySpanExporter) -> Iterator[Stack]:
    stack = Stack.start(stack_folder, database_prefix="jinhui_test")
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
async def stack(stack_sync: Stack) -> AsyncIterator[Stack]:
    await stack_sync.prepare()
    yield stack_sync
