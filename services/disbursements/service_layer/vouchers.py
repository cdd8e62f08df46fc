"""Vouchers not used by their expiry date go back to the member's cap (clause 1): the issued
disbursement is reversed, which releases the use in entitlements and corrects payroll."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

from sqlalchemy import select

from services.disbursements.adapters import repository as repo
from services.disbursements.adapters.tables import disbursements
from services.disbursements.domain.model import HELD
from services.disbursements.service_layer.handlers import DisbursementsContext, employee_of
from shared.clock import business_date
from shared.runtime import Runtime
from shared.telemetry.background import job
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)


async def expire_vouchers(ctx: DisbursementsContext, runtime: Runtime, limit: int = 200) -> int:
    today = business_date(ctx.clock)
    expired = 0
    while True:
        async with runtime.sessions() as session:
            due = list(
                await session.scalars(
                    select(disbursements.c.disbursement_id)
                    .where(
                        disbursements.c.benefit == "voucher",
                        disbursements.c.status.in_(HELD),
                        disbursements.c.redeemed_on.is_(None),
                        disbursements.c.expires_on < today,
                    )
                    .limit(limit)
                )
            )
        for disbursement_id in due:
            with job("voucher expiry", disbursement_id=disbursement_id):
                expired += await _expire(runtime, disbursement_id, today)
        if len(due) < limit:
            return expired


async def _expire(runtime: Runtime, disbursement_id: str, today: date) -> int:
    """One unused voucher past its expiry reversed, dated its expiry day on the ledgers."""
    async with UnitOfWork(runtime) as uow:
        vouchers = repo.disbursement_repository(uow.events)
        voucher = await vouchers.get(disbursement_id, for_update=True)
        if voucher is None or voucher.status not in HELD or voucher.redeemed:
            return 0
        number = await employee_of(uow, voucher.partition_key())
        voucher.reverse("voucher expired unused", number, today, effective=voucher.expires_on)
        await vouchers.save(voucher, metadata={"actor": "voucher-expiry"})
    return 1


async def run_expiry(ctx: DisbursementsContext, runtime: Runtime, interval_s: float) -> None:
    while True:
        count = await expire_vouchers(ctx, runtime)  # an error: the supervisor restarts it
        if count:
            log.info("vouchers expired", extra={"count": count})
        await asyncio.sleep(interval_s)
