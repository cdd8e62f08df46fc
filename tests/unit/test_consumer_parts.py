"""The consumer runner's parts without a broker or database: what a record decodes to, and
what the retry policy does with each kind of failure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy.exc import OperationalError

from shared.envelope import Envelope
from shared.errors import ConcurrencyConflict
from shared.events import DomainEvent
from shared.kafka.consumer.dead_letters import DeadLetters
from shared.kafka.consumer.decoding import decode
from shared.kafka.consumer.messages import (
    HandlerContext,
    InboundMessage,
    Rejected,
    Skip,
    Work,
    chain,
)
from shared.kafka.consumer.retries import retrying
from shared.kafka.topics import MEMBERS_EVENTS
from shared.supervisor import Health


class Noted(DomainEvent):
    event_type = "jinhui.test.consumer.Noted"
    member_id: str
    amount_fen: int


async def _apply(ctx: HandlerContext, message: InboundMessage) -> None:
    """Never called here: decoding only picks it."""


HANDLERS = {Noted.event_type: _apply}


def record(event: DomainEvent | None = None, *, key: str = "m-1", **changes: Any) -> ConsumerRecord:
    envelope = Envelope.wrap(
        event or Noted(member_id="m-1", amount_fen=100),
        source="/test",
        time=datetime(2026, 5, 1, tzinfo=UTC),
        partition_key=key,
    )
    k, value, headers = envelope.to_kafka()
    fields: dict[str, Any] = {
        "topic": MEMBERS_EVENTS,
        "partition": 3,
        "offset": 41,
        "timestamp": 0,
        "timestamp_type": 0,
        "key": k,
        "value": value,
        "checksum": None,
        "serialized_key_size": 0,
        "serialized_value_size": 0,
        "headers": headers,
    }
    return ConsumerRecord(**(fields | changes))


def test_a_handled_type_decodes_to_work_with_its_handler_and_position() -> None:
    decoded = decode(record(), HANDLERS, ignores=())
    assert isinstance(decoded, Work)
    assert decoded.handler is _apply
    assert decoded.message.event == Noted(member_id="m-1", amount_fen=100)
    assert (decoded.message.partition, decoded.message.offset) == (3, 41)


def test_a_known_type_this_consumer_ignores_is_skipped_without_a_reason() -> None:
    decoded = decode(record(), {}, ignores={Noted.event_type})
    assert decoded == Skip(decoded.record)


@pytest.mark.parametrize(
    ("make", "handlers", "reason"),
    [
        (lambda: record(headers=[]), HANDLERS, "undecodable"),
        (record, {}, "unknown-type"),
        (lambda: record(value=b'{"member_id": "m-1", "amount_fen": "lots"}'), HANDLERS, "invalid"),
        (lambda: record(key="m-2"), HANDLERS, "key-mismatch"),
    ],
)
def test_what_cannot_be_applied_says_why(
    make: Callable[[], ConsumerRecord], handlers: dict[str, Any], reason: str
) -> None:
    decoded = decode(make(), handlers, ignores=())
    assert isinstance(decoded, Skip)
    assert decoded.reason == reason
    assert "lots" not in decoded.detail  # values are not echoed


class Letters(DeadLetters):
    """Dead letters kept in a list: the policy under test decides, not the broker."""

    def __init__(self) -> None:
        super().__init__(producer=None, group_id="g")  # type: ignore[arg-type]
        self.sent: list[tuple[str, str]] = []

    async def send(self, record: ConsumerRecord, reason: str, detail: str) -> None:
        self.sent.append((reason, detail))


def _work() -> Work:
    decoded = decode(record(), HANDLERS, ignores=())
    assert isinstance(decoded, Work)
    return decoded


async def _no_wait(_: float) -> None:
    return None


def _policy(failures: list[BaseException], letters: Letters, health: Health) -> Any:
    calls: list[int] = []

    async def step(work: Work) -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "processed"

    return chain(step, retrying("g", letters, health, max_attempts=3, sleep=_no_wait)), calls


async def test_lost_races_and_outages_are_retried_until_they_pass() -> None:
    letters, health = Letters(), Health("jinhui", "g")
    outage = OperationalError("SELECT 1", {}, ConnectionRefusedError())
    run, calls = _policy([ConcurrencyConflict("changed"), outage, outage, outage], letters, health)
    assert await run(_work()) == "processed"
    assert len(calls) == 5
    assert letters.sent == []
    assert health.failing_since is None  # failing during the outage, well again after


async def test_a_bug_is_tried_max_attempts_times_then_dead_lettered_by_type_only() -> None:
    letters, health = Letters(), Health("jinhui", "g")
    bug = RuntimeError("secret 110101199003071234")
    run, calls = _policy([bug, bug, bug, bug], letters, health)
    assert await run(_work()) == "dead_lettered"
    assert len(calls) == 3
    assert letters.sent == [("handler-failed", "RuntimeError after 3 attempts")]


async def test_a_rejection_is_dead_lettered_at_once_with_its_reason() -> None:
    letters, health = Letters(), Health("jinhui", "g")
    run, calls = _policy([Rejected("这条消息永远无法处理")], letters, health)
    assert await run(_work()) == "dead_lettered"
    assert len(calls) == 1
    assert letters.sent == [("rejected", "这条消息永远无法处理")]


def test_disbursements_skips_a_published_policy_on_purpose() -> None:
    """Every `POST /v1/policies` once ended in disbursements' dead letters: its process does not
    load entitlements' own models, so the contract names the type it skips."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "import services.disbursements.entrypoints.consumers\n"
        "from shared.kafka.topics import ENTITLEMENTS_EVENTS, published_on\n"
        "assert 'services.entitlements.domain.events' not in sys.modules\n"
        "policy = 'jinhui.entitlements.PolicyVersionPublished'\n"
        "print(policy in published_on([ENTITLEMENTS_EVENTS]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"
