"""The household file (帮扶档案): stream `case-<id>`, one per household.

    intake ─▶ assessed ─▶ on_register ⇄ under_review
                              │             │
                              ▼             ▼
                            exited ◀────────┘      (any) ─▶ closed
                              │
                              └─▶ on_register  (返困: re-entry keeps the history)

Relief above the criteria's threshold needs a second person's approval, never the requester's.
Published events (`hardship.events.v1`) carry ids and levels only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from services.hardship.contracts import (
    HardshipLevel,
    HardshipLevelChanged,
    HouseholdEnteredRegister,
    HouseholdExitedRegister,
    ReliefGranted,
)
from services.hardship.domain.criteria import Criteria
from services.hardship.domain.events import (
    CaseAssessed,
    CaseClosed,
    CaseOpened,
    CaseReEntered,
    EmergencyConverted,
    EnteredRegister,
    ExitedRegister,
    IntakeJoined,
    ReliefApproved,
    ReliefRequested,
    ReviewBroughtForward,
    ReviewCompleted,
    ReviewStarted,
)
from services.hardship.domain.history import SOURCES_ZH, HistoryLine, level_zh
from shared.aggregate import Aggregate
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events import DomainEvent

ON_REGISTER = ("on_register", "under_review")


@dataclass
class Relief:
    relief_id: str
    member_id: str
    amount_fen: int
    in_kind: bool
    purpose: str
    requested_by: str
    requested_on: date
    approved_by: str | None = None
    approved_on: date | None = None


@dataclass
class CaseState:
    union: str = ""
    member_ids: list[str] = field(default_factory=list)
    status: str = "new"
    emergency: bool = False
    opened_on: date | None = None
    level: HardshipLevel | None = None
    assessed_level: HardshipLevel | None = None
    next_review_on: date | None = None
    follow_up_on: date | None = None
    last_changed_on: date | None = None
    sources: list[str] = field(default_factory=list)


class Case(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.case_id = stream_id.removeprefix("case-")
        self.state = CaseState()
        self.reliefs: dict[str, Relief] = {}
        self.history: list[HistoryLine] = []

    def partition_key(self) -> str:
        return self.case_id

    # Long on purpose: one match over the case events; each event's effect is read in one place.
    def apply(self, event: DomainEvent) -> None:
        s = self.state
        match event:
            case CaseOpened():
                s.union, s.member_ids, s.status = event.union, list(event.member_ids), "intake"
                s.emergency, s.opened_on = event.emergency, event.opened_on
                s.sources.append(event.source)
                self._changed(
                    event.opened_on,
                    f"建档（{SOURCES_ZH.get(event.source, event.source)}）",
                    f"opened ({event.source})",
                )
            case IntakeJoined():
                s.member_ids = sorted(set(s.member_ids) | set(event.member_ids))
                s.sources.append(event.source)
            case CaseAssessed():
                s.status, s.assessed_level = "assessed", event.level
                self._changed(
                    event.assessed_on,
                    f"认定：{level_zh(event.level) if event.level else '不属于困难'}",
                    f"assessed: {event.level or 'not in hardship'}",
                )
            case EnteredRegister():
                s.status, s.level, s.next_review_on = (
                    "on_register",
                    event.level,
                    event.next_review_on,
                )
                self._changed(
                    event.on,
                    f"纳入困难职工档案（{level_zh(event.level)}）",
                    f"on the register ({event.level})",
                )
            case ReviewStarted():
                s.status = "under_review"
                self._changed(event.on, "复核中", "under review")
            case ReviewBroughtForward():
                s.next_review_on = event.next_review_on
            case ReviewCompleted():
                changed = event.level != s.level
                s.status, s.level, s.next_review_on = (
                    "on_register",
                    event.level,
                    event.next_review_on,
                )
                self._changed(
                    event.on,
                    f"复核完成：{level_zh(event.level)}" + ("（级别调整）" if changed else ""),
                    f"reviewed: {event.level}" + (" (changed)" if changed else ""),
                )
            case ExitedRegister():
                s.status, s.follow_up_on, s.next_review_on = "exited", event.follow_up_on, None
                self._changed(event.on, f"退出档案（{event.reason}）", f"exited ({event.reason})")
            case CaseClosed():
                s.status, s.next_review_on, s.follow_up_on = "closed", None, None
                self._changed(event.on, f"结案（{event.reason}）", f"closed ({event.reason})")
            case CaseReEntered():
                self._changed(event.on, "返困，重新纳入档案", "fell back into hardship")
            case EmergencyConverted():
                s.emergency = False
                self._changed(
                    event.on, "应急帮扶转为正式档案", "emergency converted into a full file"
                )
            case ReliefRequested():
                self.reliefs[event.relief_id] = Relief(
                    event.relief_id,
                    event.member_id,
                    event.amount_fen,
                    event.in_kind,
                    event.purpose,
                    event.actor,
                    event.on,
                )
            case ReliefApproved():
                relief = self.reliefs[event.relief_id]
                relief.approved_by, relief.approved_on = event.actor, event.on

    def _changed(self, on: date, zh: str, en: str) -> None:
        self.state.last_changed_on = on
        self.history.append(HistoryLine(on, zh, en))

    def _require(self, *statuses: str, action: str) -> None:
        if self.state.status not in statuses:
            raise Conflict(
                f"a case in state {self.state.status} cannot {action}",
                rule="case.state",
                status_now=self.state.status,
            )

    def _public(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "member_ids": list(self.state.member_ids)}

    # --- decisions -----------------------------------------------------------------------------

    def open(
        self,
        *,
        union: str,
        member_ids: list[str],
        source: str,
        on: date,
        emergency: bool,
        actor: str,
    ) -> None:
        self._record(
            CaseOpened(
                case_id=self.case_id,
                actor=actor,
                union=union,
                member_ids=member_ids,
                source=source,
                opened_on=on,
                emergency=emergency,
            )
        )

    def join(self, *, member_ids: list[str], source: str, on: date, actor: str) -> None:
        self._require("intake", "assessed", *ON_REGISTER, "exited", action="take an intake")
        self._record(
            IntakeJoined(
                case_id=self.case_id, actor=actor, source=source, member_ids=member_ids, on=on
            )
        )

    def assess(self, level: HardshipLevel | None, criteria: Criteria, on: date, actor: str) -> None:
        self._require("intake", "assessed", action="be assessed")
        if self.state.emergency:
            raise Conflict("convert the emergency into a full file first", rule="case.emergency")
        self._record(
            CaseAssessed(
                case_id=self.case_id,
                actor=actor,
                level=level,
                criteria_version=criteria.version,
                assessed_on=on,
            )
        )

    def enter_register(self, criteria: Criteria, on: date, actor: str) -> None:
        self._require("assessed", action="enter the register")
        level = self.state.assessed_level
        if level is None:
            raise InvalidInput(
                "the assessment found the household not in hardship; close the case as refused",
                rule="case.not-in-hardship",
            )
        review = on + timedelta(days=criteria.review_after_days)
        self._record(
            EnteredRegister(
                case_id=self.case_id, actor=actor, level=level, on=on, next_review_on=review
            )
        )
        self._record(HouseholdEnteredRegister(**self._public(), level=level, entered_on=on))

    def start_review(self, on: date, why: str, actor: str) -> None:
        self._require("on_register", action="be reviewed")
        self._record(ReviewStarted(case_id=self.case_id, actor=actor, on=on, why=why))

    def complete_review(
        self, level: HardshipLevel | None, criteria: Criteria, on: date, actor: str
    ) -> None:
        """The re-assessment keeps the household on the register (at its level) or exits it."""
        self._require("under_review", action="complete a review")
        if level is None:
            self.exit("out_of_hardship", criteria, on, actor)
            return
        before = self.state.level
        review = on + timedelta(days=criteria.review_after_days)
        self._record(
            ReviewCompleted(
                case_id=self.case_id, actor=actor, level=level, on=on, next_review_on=review
            )
        )
        if level != before:
            self._record(HardshipLevelChanged(**self._public(), level=level, changed_on=on))

    def bring_review_forward(self, on: date, why: str, actor: str) -> None:
        if self.state.status != "on_register":
            return
        if self.state.next_review_on is not None and self.state.next_review_on <= on:
            return
        self._record(
            ReviewBroughtForward(case_id=self.case_id, actor=actor, next_review_on=on, why=why)
        )

    def exit(self, reason: str, criteria: Criteria, on: date, actor: str) -> None:
        self._require(*ON_REGISTER, action="exit the register")
        follow_up = on + timedelta(days=criteria.follow_up_after_days)
        self._record(
            ExitedRegister(
                case_id=self.case_id, actor=actor, reason=reason, on=on, follow_up_on=follow_up
            )
        )
        self._record(HouseholdExitedRegister(**self._public(), reason=reason, exited_on=on))

    def close(self, reason: str, on: date, actor: str) -> None:
        self._require("intake", "assessed", *ON_REGISTER, "exited", action="be closed")
        was_on_register = self.state.status in ON_REGISTER
        self._record(CaseClosed(case_id=self.case_id, actor=actor, reason=reason, on=on))
        if was_on_register:
            self._record(HouseholdExitedRegister(**self._public(), reason=reason, exited_on=on))

    def re_enter(self, level: HardshipLevel, criteria: Criteria, on: date, actor: str) -> None:
        self._require("exited", action="re-enter the register")
        self._record(CaseReEntered(case_id=self.case_id, actor=actor, on=on))
        review = on + timedelta(days=criteria.review_after_days)
        self._record(
            EnteredRegister(
                case_id=self.case_id, actor=actor, level=level, on=on, next_review_on=review
            )
        )
        self._record(HouseholdEnteredRegister(**self._public(), level=level, entered_on=on))

    def convert_emergency(self, on: date, actor: str) -> None:
        if not self.state.emergency:
            raise Conflict("the case is not an emergency", rule="case.emergency")
        self._record(EmergencyConverted(case_id=self.case_id, actor=actor, on=on))

    def emergency_overdue(self, criteria: Criteria, today: date) -> bool:
        s = self.state
        if not s.emergency or s.status == "closed" or s.opened_on is None:
            return False
        return today > s.opened_on + timedelta(days=criteria.emergency_convert_within_days)

    def request_relief(
        self,
        *,
        relief_id: str,
        member_id: str,
        amount_fen: int,
        in_kind: bool,
        purpose: str,
        criteria: Criteria,
        on: date,
        actor: str,
    ) -> Relief:
        if not (self.state.status in ON_REGISTER or self.state.emergency):
            raise Conflict(
                "relief is for households on the register, or an emergency",
                rule="case.state",
                status_now=self.state.status,
            )
        if member_id not in self.state.member_ids:
            raise InvalidInput("the member is not in this household", field="member_id")
        needs_second = self._recent_total(on, criteria) + amount_fen > (
            criteria.second_approval_above_fen
        )
        self._record(
            ReliefRequested(
                case_id=self.case_id,
                actor=actor,
                relief_id=relief_id,
                member_id=member_id,
                amount_fen=amount_fen,
                in_kind=in_kind,
                purpose=purpose,
                needs_second_approval=needs_second,
                on=on,
            )
        )
        if not needs_second:
            self._grant(relief_id, on, actor)
        return self.reliefs[relief_id]

    def _recent_total(self, on: date, criteria: Criteria) -> int:
        """Relief requested on this case within the criteria's period before `on` (granted or
        awaiting approval): four eyes cannot be split into small requests."""
        since = on - timedelta(days=criteria.second_approval_period_days - 1)
        return sum(r.amount_fen for r in self.reliefs.values() if r.requested_on >= since)

    def approve_relief(self, relief_id: str, on: date, approver: str) -> Relief:
        relief = self.reliefs.get(relief_id)
        if relief is None:
            raise NotFound(f"no relief {relief_id} in case {self.case_id}")
        if relief.approved_by is not None:
            raise Conflict("the relief is approved already", rule="relief.approved")
        if approver == relief.requested_by:
            raise Forbidden(
                "the requester cannot approve their own relief", rule="relief.four-eyes"
            )
        self._grant(relief_id, on, approver)
        return relief

    def _grant(self, relief_id: str, on: date, actor: str) -> None:
        self._record(ReliefApproved(case_id=self.case_id, actor=actor, relief_id=relief_id, on=on))
        r = self.reliefs[relief_id]
        self._record(
            ReliefGranted(
                **self._public(),
                relief_id=relief_id,
                member_id=r.member_id,
                amount_fen=r.amount_fen,
                in_kind=r.in_kind,
                purpose=r.purpose,
                granted_on=on,
                union=self.state.union,
                approved_by=actor,
            )
        )
