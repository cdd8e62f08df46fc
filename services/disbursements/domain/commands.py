"""What can be done to a disbursement once it exists (imperative, validated at the edge). A new
disbursement is asked for with `service_layer.handlers.NewDisbursement`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    disbursement_id: str = Field(max_length=200)


class IssueDisbursement(Command):
    """Issue an approved disbursement the officer chose to issue by hand."""


class CancelDisbursement(Command):
    """Cancel before issue (the reservation is released), or after payroll failed to pay it
    (the use goes back to the cap; payroll hears of nothing new)."""

    reason: str = Field(min_length=1, max_length=300)


class ReverseDisbursement(Command):
    """Take back an issued disbursement: the use is given back and payroll corrected."""

    reason: str = Field(min_length=1, max_length=300)


class ReissueDisbursement(Command):
    """Send a failed payment to payroll again, on the reservation it holds."""

    reason: str = Field(min_length=1, max_length=300)


class RedeemVoucher(Command):
    """A voucher was spent: it no longer expires."""


DisbursementCommand = (
    IssueDisbursement
    | CancelDisbursement
    | ReverseDisbursement
    | ReissueDisbursement
    | RedeemVoucher
)
