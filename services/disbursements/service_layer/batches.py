"""Batches: one benefit to many members (a union's subtree), each line decided against that
member's caps. Lines have deterministic ids (`<batch>-<member>`), so a batch re-submitted — or
resumed after a crash — never pays anyone twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from opentelemetry import trace
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.disbursements.adapters import repository as repo
from services.disbursements.adapters.tables import batches, disbursements, member_directory
from services.disbursements.domain.benefits import DETAILS
from services.disbursements.service_layer.handlers import (
    DisbursementsContext,
    NewDisbursement,
    open_disbursement,
)
from services.entitlements.contracts import Benefit, BenefitField
from shared.auth import Principal, Role
from shared.clock import PlausibleDate, business_date
from shared.db.sql import in_subtree
from shared.errors import InvalidInput
from shared.money import Amount
from shared.runtime import Runtime
from shared.telemetry.background import job
from shared.telemetry.metrics import BATCH_LINES, BATCHES_IN_PROGRESS
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
tracer = trace.get_tracer("jinhui.batches")


class Selection(BaseModel):
    kind: Literal["all_active", "birthday_month"] = Field(
        default="all_active",
        description="all_active: every active member; birthday_month: those born in `month`",
    )
    month: int | None = Field(default=None, ge=1, le=12, description="For birthday_month")


class BatchRequest(BaseModel):
    batch_key: str = Field(min_length=1, max_length=200, description="Re-sending it is safe")
    union: str = Field(description="Every member at or below this org")
    benefit: BenefitField
    amount_fen: Amount
    business_date: PlausibleDate = Field(description="Not in the future (Asia/Shanghai)")
    selection: Selection = Field(default_factory=Selection, description="Whom the batch is for")


def _check_batch(runtime: Runtime, body: BatchRequest) -> None:
    """What a batch as a whole must satisfy before any line is looked at."""
    if body.selection.kind == "birthday_month" and body.selection.month is None:
        raise InvalidInput("a birthday_month selection names the month", field="selection.month")
    if body.benefit in DETAILS and body.benefit is not Benefit.VOUCHER:
        raise InvalidInput(
            f"{body.benefit} needs each member's own details (a trip, a child, a plan): "
            "request it one disbursement at a time",
            field="benefit",
            rule="batch.benefit-needs-details",
        )
    if body.business_date > business_date(runtime.clock):
        raise InvalidInput(
            "业务日期晚于今天（Asia/Shanghai），不能预先发放",
            field="business_date",
            rule="period.future",
            detail_en="the business date is after today (Asia/Shanghai): nothing is paid in "
            "advance",
        )


async def create_batch(runtime: Runtime, caller: Principal, body: BatchRequest, union: str) -> str:
    """The batch's id; the same `batch_key` from the same caller answers the same batch."""
    _check_batch(runtime, body)
    batch_id = f"b-{uuid.uuid4().hex[:16]}"
    async with UnitOfWork(runtime) as uow:
        created = await uow.session.scalar(
            pg_insert(batches)
            .values(
                batch_id=batch_id,
                caller=caller.subject,
                batch_key=body.batch_key,
                union_path=union,
                benefit=body.benefit.value,
                amount_fen=body.amount_fen,
                business_date=body.business_date,
                selection=body.selection.model_dump(),
                status="creating",
            )
            .on_conflict_do_nothing()
            .returning(batches.c.batch_id)
        )
        if created is not None:
            return batch_id
        row = (
            (
                await uow.session.execute(
                    select(batches).where(
                        batches.c.caller == caller.subject, batches.c.batch_key == body.batch_key
                    )
                )
            )
            .mappings()
            .one()
        )
    asked = {
        "union_path": union,
        "benefit": body.benefit.value,
        "amount_fen": body.amount_fen,
        "business_date": body.business_date,
        "selection": body.selection.model_dump(),
    }
    if any(row[k] != v for k, v in asked.items()):
        raise InvalidInput(
            "this batch_key was used for a different batch",
            field="batch_key",
            rule="idempotency.key-reused",
        )
    return str(row["batch_id"])


@dataclass
class BatchWorker:
    """Turns `creating` batches into lines, resuming any a crash interrupted."""

    ctx: DisbursementsContext
    runtime: Runtime
    chunk: int = 500
    poll_s: float = 2.0
    # Lines opened but not yet decided, at most this many chunks: opening a million lines far
    # ahead of their decisions took half of the service's CPU for minutes while decisions
    # waited, and it gains nothing (the lines go no faster than entitlements decides them).
    ahead_chunks: int = 10
    ahead_poll_s: float = 0.2

    def __post_init__(self) -> None:
        self.wake = asyncio.Event()

    async def run(self) -> None:
        while True:
            await self.run_once()  # an error: the supervisor says so and restarts it
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.poll_s)

    async def run_once(self) -> int:
        async with self.runtime.sessions() as session:
            pending = (
                (await session.execute(select(batches).where(batches.c.status == "creating")))
                .mappings()
                .all()
            )
        BATCHES_IN_PROGRESS.set(len(pending))
        for batch in pending:
            with job("disbursement batch", batch_id=batch["batch_id"]):
                await self.process(dict(batch))
        BATCHES_IN_PROGRESS.set(0)
        return len(pending)

    async def process(self, batch: dict[str, Any]) -> None:
        caller = Principal(
            subject=batch["caller"],
            roles=frozenset({Role.FINANCE_OFFICER}),
            org=batch["union_path"],
        )
        after = ""
        while True:
            members = await self._members(batch, after)
            if not members:
                break
            await self._not_too_far_ahead(batch["batch_id"])
            await self._lines(batch, caller, members)
            after = members[-1]["member_id"]
        async with UnitOfWork(self.runtime) as uow:
            counts = await repo.kept_batch_counts(uow.session, batch["batch_id"])
            await uow.session.execute(
                update(batches)
                .where(batches.c.batch_id == batch["batch_id"])
                .values(status="submitted", lines=sum(n for n, _ in counts.values()))
            )

    async def _not_too_far_ahead(self, batch_id: str) -> None:
        """Waits while the batch's undecided lines fill `ahead_chunks` chunks."""
        limit = self.ahead_chunks * self.chunk
        while True:
            async with self.runtime.sessions() as session:
                counts = await repo.kept_batch_counts(session, batch_id)
            undecided = counts.get("pending", (0, 0))[0]
            if undecided < limit:
                return
            await asyncio.sleep(self.ahead_poll_s)

    async def _members(self, batch: dict[str, Any], after: str) -> list[dict[str, Any]]:
        d = member_directory
        union = batch["union_path"]
        query = (
            select(d)
            .where(
                in_subtree(d.c.base_union, union),
                d.c.status == "active",
                d.c.member_id > after,
            )
            .order_by(d.c.member_id)
            .limit(self.chunk)
        )
        selection = batch["selection"]
        if selection.get("kind") == "birthday_month":
            query = query.where(d.c.birth_month == selection["month"])
        async with self.runtime.sessions() as session:
            return [dict(r) for r in (await session.execute(query)).mappings()]

    async def _lines(
        self, batch: dict[str, Any], caller: Principal, members: list[dict[str, Any]]
    ) -> None:
        ids = {m["member_id"]: f"{batch['batch_id']}-{m['member_id']}" for m in members}
        with tracer.start_as_current_span(  # each chunk of lines is a trace of its own
            "batch lines", attributes={"jinhui.batch_id": batch["batch_id"]}
        ):
            await self._open_lines(batch, caller, members, ids)
        BATCH_LINES.labels(batch["benefit"]).inc(len(ids))

    async def _open_lines(
        self,
        batch: dict[str, Any],
        caller: Principal,
        members: list[dict[str, Any]],
        ids: dict[str, str],
    ) -> None:
        async with UnitOfWork(self.runtime) as uow:
            existing = set(
                await uow.session.scalars(
                    select(disbursements.c.disbursement_id).where(
                        disbursements.c.disbursement_id.in_(list(ids.values()))
                    )
                )
            )
            opened = []
            for member in members:
                line_id = ids[member["member_id"]]
                if line_id in existing:
                    continue
                new = NewDisbursement(
                    member_id=member["member_id"],
                    benefit=Benefit(batch["benefit"]),
                    amount_fen=batch["amount_fen"],
                    business_date=batch["business_date"],
                    details={"channel": "online"} if batch["benefit"] == "voucher" else {},
                )
                opened.append(
                    await open_disbursement(
                        self.ctx,
                        uow,
                        line_id,
                        new,
                        caller,
                        batch_id=batch["batch_id"],
                        member=member,
                    )
                )
            await repo.disbursement_repository(uow.events).save_many(
                opened, metadata={"actor": batch["caller"], "batch_id": batch["batch_id"]}
            )


async def batch_report(runtime: Runtime, batch_id: str) -> tuple[dict[str, Any], list[Any]] | None:
    async with runtime.sessions() as session:
        batch = (
            (await session.execute(select(batches).where(batches.c.batch_id == batch_id)))
            .mappings()
            .first()
        )
        if batch is None:
            return None
        counts = await repo.kept_batch_counts(session, batch_id)
    return dict(batch), [(status, n, fen) for status, (n, fen) in counts.items()]
