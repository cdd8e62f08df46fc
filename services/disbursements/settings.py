from __future__ import annotations

from shared.settings import ServiceSettings


class DisbursementsSettings(ServiceSettings):
    service_name: str = "disbursements"
    default_voucher_expiry_days: int = 90  # when the member's union set none
    voucher_expiry_interval_s: float = 3600.0
    # A disbursement still pending this long has its request sent again (same id).
    resend_unanswered_after_s: float = 30.0
    # An entry payroll has not answered this many days after it was sent is listed to chase.
    payroll_answer_days: int = 10
