"""The steps of a household's file (imperative, validated at the edge): each route of the
caseworker's desk is one of these, handled by `service_layer.handlers.handle`."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from services.hardship.domain.household import Household


class CaseCommand(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: ClassVar[str]  # the route's last segment, and the audit log's name for the step
    summary: ClassVar[str]
    case_id: str = Field(max_length=80)
    why: str = Field(default="", max_length=300)
    household: Household | None = None
    sudden: bool = False


class AssessCase(CaseCommand):
    action, summary = "assess", "Assess the household against the criteria in force"


class EnterRegister(CaseCommand):
    action, summary = "register", "Put an assessed household on the register"


class StartReview(CaseCommand):
    action, summary = "start-review", "Start a review (yearly, or brought forward by a life event)"


class CompleteReview(CaseCommand):
    action = "complete-review"
    summary = "Re-assess: stay on the register (maybe at another level) or exit"


class ExitRegister(CaseCommand):
    action, summary = "exit", "Out of hardship (脱困)"


class CloseCase(CaseCommand):
    action, summary = "close", "Close: retired, transferred out, deceased, refused"


class ReEnterRegister(CaseCommand):
    action, summary = "re-enter", "An exited household falls back into hardship (返困)"


class ConvertEmergency(CaseCommand):
    action, summary = "convert", "Turn an emergency intake into a full file"


STEPS: tuple[type[CaseCommand], ...] = (
    AssessCase,
    EnterRegister,
    StartReview,
    CompleteReview,
    ExitRegister,
    CloseCase,
    ReEnterRegister,
    ConvertEmergency,
)
