"""What payroll systems answer on `payroll.results.v1` (CloudEvents, binary mode, keyed by
member id like the entries they answer): an entry of `payroll.benefits.v1` was paid in a pay
run, or its payment failed.

An answer names the `entry_id` it answers and is applied once: the same answer again changes
nothing, in whatever order it arrives relative to a reversal or a re-issue. An answer naming
no entry Jinhui sent, or contradicting one already given, is dead-lettered with its reason.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shared.clock import PlausibleDate
from shared.events import DomainEvent
from shared.kafka.topics import PAYROLL_RESULTS

PAY_PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"


class FailureReason(StrEnum):
    """Why a payment failed, as payroll systems report it."""

    ACCOUNT_CLOSED = "account_closed"  # 银行账户已销户
    ACCOUNT_INVALID = "account_invalid"  # 账户信息有误
    EMPLOYEE_LEFT = "employee_left"  # 发薪前已离职
    NOT_ON_PAYROLL = "not_on_payroll"  # 工资系统中无此人
    BANK_REJECTED = "bank_rejected"  # 银行退票
    OTHER = "other"


FAILURE_ZH = {
    FailureReason.ACCOUNT_CLOSED: "银行账户已销户",
    FailureReason.ACCOUNT_INVALID: "账户信息有误",
    FailureReason.EMPLOYEE_LEFT: "发薪前已离职",
    FailureReason.NOT_ON_PAYROLL: "工资系统中无此人",
    FailureReason.BANK_REJECTED: "银行退票",
    FailureReason.OTHER: "其他原因",
}


class PayrollResult(DomainEvent):
    topic = PAYROLL_RESULTS
    entry_id: str = Field(
        min_length=1, max_length=200, description="The `entry_id` of the entry this answers"
    )
    disbursement_id: str = Field(min_length=1, max_length=120)
    member_id: str = Field(min_length=1, max_length=40, description="The entry's member (key)")


class BenefitPaid(PayrollResult):
    """The entry was paid in a pay run."""

    event_type = "jinhui.payroll.BenefitPaid"
    pay_period: str = Field(pattern=PAY_PERIOD, description="YYYY-MM of the pay run that paid it")
    paid_on: PlausibleDate
    payroll_reference: str = Field(
        min_length=1, max_length=100, description="The pay run's own reference for this line"
    )


class BenefitPaymentFailed(PayrollResult):
    """The entry could not be paid; a finance officer re-issues or cancels it."""

    event_type = "jinhui.payroll.BenefitPaymentFailed"
    reason_code: FailureReason
    reason_text: str = Field(min_length=1, max_length=300)
    failed_on: PlausibleDate | None = None
