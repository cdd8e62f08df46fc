"""Commands the member registry accepts (imperative, validated at the edge)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from services.members.domain.events import EmploymentForm


class RegisterMember(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_union: str = Field(description="Org path of the member's base union")
    name: str = Field(min_length=1, max_length=100)
    birth_date: date
    join_date: date
    employment_form: EmploymentForm = EmploymentForm.STANDARD
    migrant_worker: bool = False
    ethnic_minority: bool = False
    martyr_family: bool = False
