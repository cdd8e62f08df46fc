"""The member aggregate: one stream per member, `member-<id>`. It decides what may happen to a
member (no births after death, one birthday a year, one spouse) and records it as events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.members.contracts import (
    BirthdayReached,
    ChildBirthRegistered,
    EmploymentForm,
    EndReason,
    MemberDetailsCorrected,
    MemberRegistered,
    MemberRejoined,
    MembershipEnded,
    MemberTransferred,
    NewEmploymentFormEnded,
    NewEmploymentFormRegistered,
    Sex,
    SpouseLinked,
    birthday_in,
)
from shared.aggregate import Aggregate
from shared.errors import Conflict, InvalidInput
from shared.events import DomainEvent


@dataclass(frozen=True)
class Child:
    child_id: str
    birth_date: date
    birth_order: int


class Member(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.member_id: str | None = None
        self.base_union = ""
        self.name = ""
        self.sex: Sex | None = None
        self.birth_date: date | None = None
        self.join_date: date | None = None
        self.employment_form = EmploymentForm.STANDARD
        self.status = "active"
        self.end_reason: EndReason | None = None
        self.spouse: str | None = None
        self.children: dict[str, Child] = {}
        self.birthdays: set[int] = set()

    def partition_key(self) -> str:
        assert self.member_id is not None
        return self.member_id

    # --- state -------------------------------------------------------------------------------

    def apply(self, event: DomainEvent) -> None:
        match event:
            case MemberRegistered():
                self.member_id = event.member_id
                self.base_union = event.base_union
                self.name = event.name
                self.sex = event.sex
                self.birth_date = event.birth_date
                self.join_date = event.join_date
                self.employment_form = event.employment_form
            case SpouseLinked():
                self.spouse = event.spouse_member_id
            case ChildBirthRegistered():
                self.children[event.child_id] = Child(
                    event.child_id, event.birth_date, event.birth_order
                )
            case NewEmploymentFormRegistered():
                self.employment_form = event.employment_form
            case NewEmploymentFormEnded():
                self.employment_form = EmploymentForm.STANDARD
            case BirthdayReached():
                self.birthdays.add(event.year)
            case MemberTransferred():
                self.base_union = event.to_union
            case MemberDetailsCorrected():
                self.name = event.name or self.name
                self.sex = event.sex or self.sex
                self.birth_date = event.birth_date or self.birth_date
            case MembershipEnded():
                self.status = "ended"
                self.end_reason = event.reason
            case MemberRejoined():
                self.status = "active"
                self.base_union = event.base_union
                self.join_date = event.join_date

    # --- decisions ---------------------------------------------------------------------------

    def _id(self) -> str:
        assert self.member_id is not None, "the member is not registered"
        return self.member_id

    def _require_active(self) -> None:
        if self.status != "active":
            raise Conflict(
                "the membership has ended", rule="member.ended", member_id=self.member_id
            )

    def register(self, event: MemberRegistered) -> None:
        if self.member_id is not None:
            raise Conflict("the member is already registered", member_id=self.member_id)
        if event.join_date < event.birth_date:
            raise InvalidInput("join_date is before birth_date", field="join_date")
        self._record(event)

    def link_spouse(self, spouse_member_id: str) -> None:
        self._require_active()
        if spouse_member_id == self.member_id:
            raise InvalidInput("a member cannot be their own spouse", field="spouse_member_id")
        if self.spouse == spouse_member_id:
            return
        if self.spouse is not None:
            raise Conflict(
                "the member is already linked to a spouse",
                rule="member.spouse",
                member_id=self.member_id,
            )
        self._record(SpouseLinked(member_id=self._id(), spouse_member_id=spouse_member_id))

    def same_child(self, birth_date: date, birth_order: int) -> Child | None:
        for child in self.children.values():
            if child.birth_date == birth_date and child.birth_order == birth_order:
                return child
        return None

    def record_birth(
        self,
        *,
        child_id: str,
        birth_date: date,
        birth_order: int,
        within_policy: bool,
        other_parent: str | None,
        today: date,
    ) -> None:
        """Once per child: a second report of the same child (same date and order) is a no-op."""
        self._require_active()
        if birth_date > today:
            raise InvalidInput("the birth date is in the future", field="birth_date")
        if child_id in self.children or self.same_child(birth_date, birth_order):
            return
        self._record(
            ChildBirthRegistered(
                member_id=self._id(),
                child_id=child_id,
                birth_date=birth_date,
                birth_order=birth_order,
                within_policy=within_policy,
                other_parent_member_id=other_parent,
            )
        )

    def register_new_employment_form(
        self, form: EmploymentForm, on: date, platform: str | None
    ) -> None:
        self._require_active()
        if not form.is_new_form:
            raise InvalidInput("choose one of the new employment forms", field="employment_form")
        if self.employment_form is form:
            return
        self._record(
            NewEmploymentFormRegistered(
                member_id=self._id(), employment_form=form, registered_on=on, platform=platform
            )
        )

    def end_new_employment_form(self, on: date) -> None:
        self._require_active()
        if not self.employment_form.is_new_form:
            raise Conflict(
                "the member is not in a new employment form", rule="member.employment-form"
            )
        self._record(
            NewEmploymentFormEnded(
                member_id=self._id(), previous_form=self.employment_form, ended_on=on
            )
        )

    def reach_birthday(self, year: int, today: date) -> bool:
        """Record the birthday of `year` if it has come, the member was a member on that day,
        and it was not recorded before. Returns whether it recorded it."""
        if self.status != "active" or year in self.birthdays or self.birth_date is None:
            return False
        birthday = birthday_in(self.birth_date, year)
        if birthday > today or (self.join_date is not None and birthday < self.join_date):
            return False
        self._record(
            BirthdayReached(member_id=self._id(), year=year, birthday=birthday, noticed_on=today)
        )
        return True

    def transfer(self, to_union: str, effective_date: date) -> None:
        self._require_active()
        if to_union == self.base_union:
            raise Conflict("the member already belongs to that union", rule="member.transfer")
        self._record(
            MemberTransferred(
                member_id=self._id(),
                from_union=self.base_union,
                to_union=to_union,
                effective_date=effective_date,
            )
        )

    def correct(self, correction: MemberDetailsCorrected) -> None:
        if not correction.fields:
            return
        if correction.birth_date and self.join_date and self.join_date < correction.birth_date:
            raise InvalidInput("join_date is before birth_date", field="birth_date")
        self._record(correction)

    def end(self, reason: EndReason, effective_date: date) -> None:
        self._require_active()
        if self.join_date and effective_date < self.join_date:
            raise InvalidInput("the end date is before the join date", field="effective_date")
        self._record(
            MembershipEnded(member_id=self._id(), reason=reason, effective_date=effective_date)
        )

    def rejoin(self, base_union: str, join_date: date) -> None:
        if self.status == "active":
            raise Conflict("the member is already active", rule="member.active")
        if self.end_reason is EndReason.DECEASED:
            raise Conflict("the member is deceased", rule="member.deceased")
        self._record(
            MemberRejoined(member_id=self._id(), base_union=base_union, join_date=join_date)
        )
