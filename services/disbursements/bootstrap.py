"""Builds the disbursements service's running parts; called from the FastAPI lifespan."""

from __future__ import annotations

from services.disbursements.adapters.tables import event_tables
from services.disbursements.domain.benefits import References
from services.disbursements.entrypoints.consumers import (
    entitlement_events,
    hardship_events,
    member_events,
    payroll_results,
)
from services.disbursements.service_layer.batches import BatchWorker
from services.disbursements.service_layer.handlers import DECIDED, DisbursementsContext
from services.disbursements.service_layer.stuck import keep_resending
from services.disbursements.service_layer.vouchers import run_expiry
from services.disbursements.settings import DisbursementsSettings
from shared.clock import Clock, SystemClock
from shared.db.notices import Notices
from shared.runtime import Runtime, build_runtime


def bootstrap(settings: DisbursementsSettings | None = None, clock: Clock | None = None) -> Runtime:
    settings = settings or DisbursementsSettings()
    clock = clock or SystemClock()
    ctx = DisbursementsContext(
        references=References.bundled(),
        clock=clock,
        default_voucher_expiry_days=settings.default_voucher_expiry_days,
        decided=Notices(settings.database_url, DECIDED, "disbursements"),
        payroll_answer_days=settings.payroll_answer_days,
    )
    runtime = build_runtime(
        service="disbursements",
        settings=settings,
        clock=clock,
        tables=event_tables,
        subscriptions=[
            entitlement_events(),
            member_events(),
            hardship_events(ctx),
            payroll_results(),
        ],
    )
    runtime.context = ctx
    worker = BatchWorker(ctx, runtime)
    runtime.services["batches"] = worker
    runtime.extra_workers.append(worker.run)
    if ctx.decided is not None:
        runtime.extra_workers.append(ctx.decided.run)
    runtime.extra_workers.append(
        lambda: run_expiry(ctx, runtime, settings.voucher_expiry_interval_s)
    )
    runtime.extra_workers.append(
        lambda: keep_resending(runtime, settings.resend_unanswered_after_s)
    )
    return runtime
