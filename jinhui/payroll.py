"""A payroll system for the demo and the tests: it reads `payroll.benefits.v1` as a payroll run
would and answers on `payroll.results.v1` — most entries paid on the pay day of their pay
period, a few failed for the reasons real pay runs give.

Each answer depends only on the entry (its id decides paid or failed, and the answer's
CloudEvents id), so a redelivered entry is answered the same way under the same id, and Jinhui
applies it once. Corrections (`BenefitReversed`) are taken into the pay run without an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from services.disbursements.contracts import PayrollBenefitIssued
from services.disbursements.domain.payroll import (
    BenefitPaid,
    BenefitPaymentFailed,
    FailureReason,
    PayrollResult,
)
from shared.envelope import Envelope, EnvelopeError, Headers
from shared.kafka.closing import close_consumer
from shared.kafka.topics import PAYROLL_BENEFITS, PAYROLL_RESULTS

log = logging.getLogger(__name__)
SOURCE = "/payroll/simulator"
PAY_DAY = 25
FAILURES = (  # what pay runs report, most common first
    (FailureReason.ACCOUNT_CLOSED, "工资卡已销户 the salary card account is closed"),
    (FailureReason.EMPLOYEE_LEFT, "发薪前已离职 left before the pay run"),
    (FailureReason.ACCOUNT_INVALID, "户名与账号不符 account name and number do not match"),
)
# Decides an entry's fate: None to pay it, or why it failed.
Decide = Callable[[PayrollBenefitIssued], tuple[FailureReason, str] | None]


def _digest(entry_id: str) -> int:
    return int.from_bytes(hashlib.sha256(entry_id.encode()).digest()[:8], "big")


def by_share(failed_share: float) -> Decide:
    """About `failed_share` of entries fail, the same ones however often they are read."""

    def decide(entry: PayrollBenefitIssued) -> tuple[FailureReason, str] | None:
        digest = _digest(entry.entry_id)
        if digest % 10_000 >= failed_share * 10_000:
            return None
        return FAILURES[(digest // 10_000) % len(FAILURES)]

    return decide


def answer(entry: PayrollBenefitIssued, decide: Decide) -> PayrollResult:
    """The pay run's answer to one entry: paid on the pay day of its pay period, or failed."""
    year, month = (int(p) for p in entry.pay_period.split("-"))
    common = {
        "entry_id": entry.entry_id,
        "disbursement_id": entry.disbursement_id,
        "member_id": entry.member_id,
    }
    failure = decide(entry)
    if failure is not None:
        code, text = failure
        return BenefitPaymentFailed(
            **common, reason_code=code, reason_text=text, failed_on=date(year, month, PAY_DAY)
        )
    return BenefitPaid(
        **common,
        pay_period=entry.pay_period,
        paid_on=date(year, month, PAY_DAY),
        payroll_reference=f"PR{year}{month:02d}-{_digest(entry.entry_id) % 10**8:08d}",
    )


def envelope(result: PayrollResult) -> Envelope:
    """The answer's CloudEvent, its id fixed by the entry: sent again, it is a duplicate."""
    kind = "paid" if isinstance(result, BenefitPaid) else "failed"
    return Envelope.wrap(
        result,
        source=SOURCE,
        time=datetime.now(UTC),
        partition_key=result.member_id,
        event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SOURCE}/{result.entry_id}/{kind}")),
    )


class PayrollSimulator:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        decide: Decide | None = None,
        group_id: str = "payroll.simulator",
        accepts: Callable[[PayrollBenefitIssued], bool] = lambda entry: True,
    ) -> None:
        """`accepts`: the entries this pay run pays (one employer's, say); others are left to
        their own payroll system."""
        self._bootstrap = bootstrap_servers
        self._decide = decide or by_share(0.03)
        self._group_id = group_id
        self._accepts = accepts
        self.answered = 0

    async def run(self) -> None:
        """Answer until cancelled; an entry is committed only after its answer was sent."""
        consumer = AIOKafkaConsumer(
            PAYROLL_BENEFITS,
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        producer = AIOKafkaProducer(bootstrap_servers=self._bootstrap, acks="all")
        await consumer.start()
        await producer.start()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=500, max_records=500)
                sent = [
                    await producer.send(PAYROLL_RESULTS, value=value, key=key, headers=headers)
                    for records in batch.values()
                    for record in records
                    for key, value, headers in self._answers(record)
                ]
                await asyncio.gather(*sent)
                self.answered += len(sent)
                if batch:
                    await consumer.commit()
        finally:
            await close_consumer(consumer)
            with contextlib.suppress(Exception):
                await producer.stop()

    def _answers(self, record: ConsumerRecord) -> list[tuple[bytes | None, bytes, Headers]]:
        try:
            entry = Envelope.from_kafka(record.key, record.value, list(record.headers)).event()
        except EnvelopeError as exc:
            log.warning("payroll simulator skips an unreadable entry", extra={"error": str(exc)})
            return []
        if not isinstance(entry, PayrollBenefitIssued) or not self._accepts(entry):
            return []  # a correction (taken into the pay run), or another payroll's entry
        return [envelope(answer(entry, self._decide)).to_kafka()]
