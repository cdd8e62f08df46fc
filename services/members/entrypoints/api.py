"""HTTP API of the member registry. Routers stay thin: request → command → handler.

Everyone authenticated may read within their part of the union tree; HR integrations and
administrators change the registry. A member outside the caller's subtree is a 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from services.members.adapters.orgs import require_base_union
from services.members.adapters.repository import search_query
from services.members.adapters.tables import members
from services.members.contracts import EmploymentForm
from services.members.domain.commands import (
    CorrectMemberDetails,
    EndMembership,
    LinkSpouse,
    RecordChildBirth,
    RegisterMember,
    RegisterNewEmploymentForm,
    RejoinMember,
    TransferMember,
)
from services.members.entrypoints.deps import MembersContextDep
from services.members.entrypoints.schemas import (
    ChildRecorded,
    ImportReportView,
    MemberCreated,
    MemberPage,
    RowResultView,
)
from services.members.service_layer import handlers, views
from services.members.service_layer.handlers import MembersContext
from services.members.service_layer.roster import import_roster
from shared.auth import Principal, PrincipalDep, Role, parse_org
from shared.clock import business_date
from shared.errors import InvalidInput, NotFound
from shared.http.deps import RuntimeDep
from shared.http.params import MemberId
from shared.runtime import Runtime
from shared.uow import UnitOfWork

router = APIRouter(prefix="/v1/members", tags=["members"])
WRITERS = (Role.HR_INTEGRATION, Role.ADMIN)


async def _view(
    runtime: Runtime, ctx: MembersContext, caller: Principal, member_id: str
) -> views.MemberView:
    async with runtime.sessions() as session:
        return await views.member_view(session, ctx.vault, caller, member_id)


@dataclass(frozen=True)
class MemberChange:
    """One change to a member by a writer who can reach them, answered with the member as
    they are afterwards."""

    runtime: Runtime
    ctx: MembersContext
    caller: Principal

    @property
    def actor(self) -> str:
        return self.caller.subject

    async def allowed(self, member_id: MemberId) -> None:
        async with self.runtime.sessions() as session:
            await views.require_reachable(session, self.caller, member_id)

    async def __call__(
        self,
        member_id: MemberId,
        action: Callable[[UnitOfWork], Awaitable[object]],
        *,
        reaching: str | None = None,
    ) -> views.MemberView:
        """`reaching`: another union the caller must reach too (a transfer's destination),
        checked after the member, so a member outside the caller's tree stays undisclosed."""
        await self.allowed(member_id)
        if reaching:
            self.caller.require_org(parse_org(reaching))
        async with UnitOfWork(self.runtime) as uow:
            await action(uow)
        return await _view(self.runtime, self.ctx, self.caller, member_id)


async def _change(
    caller: PrincipalDep, runtime: RuntimeDep, ctx: MembersContextDep
) -> MemberChange:
    return MemberChange(runtime, ctx, caller)


ChangeDep = Annotated[MemberChange, Depends(_change)]


@router.post("", status_code=201, response_model=MemberCreated, summary="Register a member")
async def register(
    cmd: RegisterMember,
    caller: PrincipalDep,
    runtime: RuntimeDep,
    ctx: MembersContextDep,
    response: Response,
) -> MemberCreated:
    """409 with `member_id` when the ID number is already registered."""
    caller.require_org(parse_org(cmd.base_union))
    async with UnitOfWork(runtime) as uow:
        member_id = await handlers.register_member(ctx, uow, cmd, caller.subject)
    response.headers["Location"] = f"/v1/members/{member_id}"
    return MemberCreated(member_id=member_id)


@router.get("", response_model=MemberPage, summary="Search members in the caller's subtree")
async def search(
    caller: PrincipalDep,
    runtime: RuntimeDep,
    base_union: Annotated[
        str | None, Query(max_length=200, description="Only members at or below this org")
    ] = None,
    name: Annotated[
        str | None, Query(max_length=100, description="姓名, exactly", examples=["王芳"])
    ] = None,
    employment_form: Annotated[
        EmploymentForm | None, Query(description="就业形态, e.g. food_delivery_rider")
    ] = None,
    birthday_month: Annotated[
        int | None, Query(ge=1, le=12, description="Born in this month (1–12)")
    ] = None,
    status: Annotated[
        Literal["active", "ended"] | None, Query(description="会籍: active or ended")
    ] = None,
    employee_number: Annotated[
        str | None, Query(max_length=64, description="工号", examples=["A000123"])
    ] = None,
    after: Annotated[str | None, Query(description="next_after of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many per page")] = 100,
) -> MemberPage:
    """Always within the caller's subtree; `base_union` narrows it further (any level). A union
    outside the subtree answers 404, like every other call outside it."""
    if base_union and not caller.can_reach(parse_org(base_union)):
        raise NotFound(f"no union {base_union}", field="base_union")
    query = search_query(
        within=caller.org,
        base_union=parse_org(base_union) if base_union else None,
        name=name,
        employment_form=employment_form.value if employment_form else None,
        birthday_month=birthday_month,
        status=status,
        employee_number=employee_number,
    )
    if after:
        query = query.where(members.c.member_id > after)
    query = query.order_by(members.c.member_id).limit(limit + 1)
    async with runtime.sessions() as session:
        rows = (await session.execute(query)).mappings().all()
    items = [views.MemberSummary.model_validate(dict(r)) for r in rows[:limit]]
    return MemberPage(items=items, next_after=items[-1].member_id if len(rows) > limit else None)


@router.post(
    "/imports",
    response_model=ImportReportView,
    summary="Import a base union's roster (CSV, UTF-8)",
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_csv(
    request: Request,
    caller: PrincipalDep,
    runtime: RuntimeDep,
    ctx: MembersContextDep,
    union: Annotated[str, Query(description="Org path of the base union")],
    first_row: Annotated[
        int,
        Query(
            ge=1,
            description="Number of the body's first data row in the whole file (1 for the "
            "first row under the header): a roster sent in chunks keeps spreadsheet row numbers",
        ),
    ] = 1,
) -> ImportReportView:
    """Each row is created, found already a member, or rejected with the reason."""
    base_union = parse_org(union)
    caller.require_org(base_union)
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 (save it as CSV UTF-8)", field="file") from None
    async with UnitOfWork(runtime) as uow:
        await require_base_union(uow.session, base_union, field="union")
        report = await import_roster(ctx, uow, text, base_union, caller.subject, first_row)
    return ImportReportView(
        union=base_union,
        created=report.count("created"),
        already_member=report.count("already_member"),
        rejected=report.count("rejected"),
        rows=[RowResultView(**vars(r)) for r in report.results],
    )


@router.get("/{member_id}", response_model=views.MemberView, summary="A member's registry entry")
async def get_member(
    member_id: MemberId, caller: PrincipalDep, runtime: RuntimeDep, ctx: MembersContextDep
) -> views.MemberView:
    return await _view(runtime, ctx, caller, member_id)


@router.patch("/{member_id}", response_model=views.MemberView, summary="Correct a member's details")
async def correct(
    member_id: MemberId,
    cmd: CorrectMemberDetails,
    change: ChangeDep,
) -> views.MemberView:
    return await change(
        member_id,
        lambda uow: handlers.correct_member(change.ctx, uow, member_id, cmd, change.actor),
    )


@router.put("/{member_id}/spouse", response_model=views.MemberView, summary="Link the spouse")
async def link_spouse(
    member_id: MemberId,
    cmd: LinkSpouse,
    change: ChangeDep,
) -> views.MemberView:
    """Both members are linked to each other; the spouse may belong to another union."""
    return await change(
        member_id,
        lambda uow: handlers.link_spouses(uow, member_id, cmd.spouse_member_id, change.actor),
    )


@router.post(
    "/{member_id}/births",
    status_code=201,
    response_model=ChildRecorded,
    summary="Record a birth",
    responses={200: {"model": ChildRecorded, "description": "The child was already recorded"}},
)
async def record_birth(
    member_id: MemberId,
    cmd: RecordChildBirth,
    change: ChangeDep,
    response: Response,
) -> ChildRecorded:
    """Recorded on both parents when the other parent is a member. The same child reported
    again (same birth date and order) answers 200 with the child's existing id."""
    await change.allowed(member_id)
    async with UnitOfWork(change.runtime) as uow:
        child_id, created = await handlers.record_birth(
            change.ctx, uow, member_id, cmd, change.actor
        )
    if not created:
        response.status_code = 200
    return ChildRecorded(child_id=child_id, created=created)


@router.put(
    "/{member_id}/new-employment-form",
    response_model=views.MemberView,
    summary="Register the member in a new employment form",
)
async def register_nef(
    member_id: MemberId,
    cmd: RegisterNewEmploymentForm,
    change: ChangeDep,
) -> views.MemberView:
    return await change(
        member_id,
        lambda uow: handlers.register_new_employment_form(uow, member_id, cmd, change.actor),
    )


@router.delete(
    "/{member_id}/new-employment-form",
    response_model=views.MemberView,
    summary="Record the member's return to standard employment",
)
async def end_nef(
    member_id: MemberId,
    change: ChangeDep,
    ended_on: Annotated[
        date | None, Query(description="The day the new form of employment ended (default: today)")
    ] = None,
) -> views.MemberView:
    day = ended_on or business_date(change.runtime.clock)
    return await change(
        member_id, lambda uow: handlers.end_new_employment_form(uow, member_id, day, change.actor)
    )


@router.post(
    "/{member_id}/transfers",
    response_model=views.MemberView,
    summary="Transfer the member to another base union",
)
async def transfer(
    member_id: MemberId,
    cmd: TransferMember,
    change: ChangeDep,
) -> views.MemberView:
    """The caller must reach both unions. Ledgers are kept per member, so they follow."""
    return await change(
        member_id,
        lambda uow: handlers.transfer_member(uow, member_id, cmd, change.actor),
        reaching=cmd.to_union,
    )


@router.post("/{member_id}/end", response_model=views.MemberView, summary="End the membership")
async def end(
    member_id: MemberId,
    cmd: EndMembership,
    change: ChangeDep,
) -> views.MemberView:
    return await change(
        member_id, lambda uow: handlers.end_membership(uow, member_id, cmd, change.actor)
    )


@router.post("/{member_id}/rejoin", response_model=views.MemberView, summary="Re-join the union")
async def rejoin(
    member_id: MemberId,
    cmd: RejoinMember,
    change: ChangeDep,
) -> views.MemberView:
    return await change(
        member_id,
        lambda uow: handlers.rejoin_member(uow, member_id, cmd, change.actor),
        reaching=cmd.base_union,
    )


@router.get(
    "/{member_id}/events",
    response_model=list[views.MemberEventView],
    summary="The member's events, oldest first",
)
async def list_events(
    member_id: MemberId, caller: PrincipalDep, runtime: RuntimeDep
) -> list[views.MemberEventView]:
    async with runtime.sessions() as session:
        await views.require_reachable(session, caller, member_id)
        return await views.member_events(runtime.event_store(session), member_id)
