"""What the member registry's HTTP API answers beyond the commands it takes (the commands are
in domain/commands.py): response bodies, documented field by field in the OpenAPI."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from services.members.service_layer import views


class MemberCreated(BaseModel):
    member_id: str


class ChildRecorded(BaseModel):
    child_id: str
    created: bool


class MemberPage(BaseModel):
    items: list[views.MemberSummary]
    next_after: str | None


class RowResultView(BaseModel):
    row: int = Field(description="The row in the spreadsheet (表格行号): the header is row 1")
    status: Literal["created", "already_member", "rejected"]
    member_id: str | None
    reason: str | None
    name: str | None = Field(default=None, description="姓名, as the file gives it")
    employee_number: str | None = Field(default=None, description="工号, as the file gives it")


class ImportReportView(BaseModel):
    union: str
    created: int
    already_member: int
    rejected: int
    rows: list[RowResultView]
