"""What entitlements knows of a member, from the members' events: stream `profile-<member_id>`.

Decisions need facts that arrive on another topic (registration, birthdays, births, the end of a
membership). They are recorded here as entitlements' own events, so a ledger decision can be
replayed from this service's store alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.entitlements.domain.events import (
    BirthdayNoted,
    ChildNoted,
    ProfileChanged,
    ProfileOpened,
)
from services.members.domain.events import (
    BirthdayReached,
    ChildBirthRegistered,
    MemberDetailsCorrected,
    MemberEvent,
    MemberRegistered,
    MemberRejoined,
    MembershipEnded,
    MemberTransferred,
    NewEmploymentFormEnded,
    NewEmploymentFormRegistered,
)
from shared.aggregate import Aggregate
from shared.events import DomainEvent


@dataclass(frozen=True)
class ChildFacts:
    child_id: str
    birth_date: date
    birth_order: int
    within_policy: bool


class MemberProfile(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.member_id: str | None = None
        self.base_union = ""
        self.birth_date: date | None = None
        self.join_date: date | None = None
        self.employment_form = "standard"
        self.migrant_worker = self.ethnic_minority = self.martyr_family = False
        self.active = True
        self.status_date: date | None = None
        self.birthdays: dict[int, date] = {}
        self.children: dict[str, ChildFacts] = {}
        self.in_hardship = False

    def partition_key(self) -> str:
        assert self.member_id is not None
        return self.member_id

    def apply(self, event: DomainEvent) -> None:
        match event:
            case ProfileOpened():
                self.member_id = event.member_id
                self.base_union = event.base_union
                self.birth_date = event.birth_date
                self.join_date = event.join_date
                self.employment_form = event.employment_form
                self.migrant_worker = event.migrant_worker
                self.ethnic_minority = event.ethnic_minority
                self.martyr_family = event.martyr_family
            case BirthdayNoted():
                self.birthdays[event.year] = event.birthday
            case ChildNoted():
                self.children[event.child_id] = ChildFacts(
                    event.child_id, event.birth_date, event.birth_order, event.within_policy
                )
            case ProfileChanged():
                for name in (
                    "base_union",
                    "employment_form",
                    "migrant_worker",
                    "ethnic_minority",
                    "martyr_family",
                    "birth_date",
                    "active",
                    "status_date",
                    "in_hardship",
                ):
                    value = getattr(event, name)
                    if value is not None:
                        setattr(self, name, value)

    @property
    def known(self) -> bool:
        return self.member_id is not None

    @property
    def summer_camp_eligible(self) -> bool:
        """Clause 5: children of martyrs, workers in hardship, new-employment-form, migrant
        and ethnic-minority workers."""
        return (
            self.martyr_family
            or self.migrant_worker
            or self.ethnic_minority
            or self.employment_form != "standard"
            or self.in_hardship
        )

    def active_on(self, day: date) -> bool:
        if self.active:
            return self.status_date is None or day >= self.status_date
        return self.status_date is not None and day < self.status_date

    def note_hardship(self, on_register: bool, source_event_id: str) -> None:
        """The member's household entered or left the hardship register (clause 10)."""
        if self.known and self.in_hardship != on_register:
            self._record(
                ProfileChanged(
                    member_id=self.partition_key(),
                    source_event_id=source_event_id,
                    in_hardship=on_register,
                )
            )

    def note(self, event: MemberEvent, source_event_id: str) -> None:
        """Record what a members' event tells; a fact already known is not recorded again."""
        common = {"member_id": event.member_id, "source_event_id": source_event_id}
        match event:
            case MemberRegistered() if not self.known:
                self._record(
                    ProfileOpened(
                        **common,
                        base_union=event.base_union,
                        birth_date=event.birth_date,
                        join_date=event.join_date,
                        employment_form=event.employment_form.value,
                        migrant_worker=event.migrant_worker,
                        ethnic_minority=event.ethnic_minority,
                        martyr_family=event.martyr_family,
                    )
                )
            case BirthdayReached() if event.year not in self.birthdays:
                self._record(BirthdayNoted(**common, year=event.year, birthday=event.birthday))
            case ChildBirthRegistered() if event.child_id not in self.children:
                self._record(
                    ChildNoted(
                        **common,
                        child_id=event.child_id,
                        birth_date=event.birth_date,
                        birth_order=event.birth_order,
                        within_policy=event.within_policy,
                    )
                )
            case NewEmploymentFormRegistered():
                self._record(ProfileChanged(**common, employment_form=event.employment_form.value))
            case NewEmploymentFormEnded():
                self._record(ProfileChanged(**common, employment_form="standard"))
            case MemberTransferred():
                self._record(ProfileChanged(**common, base_union=event.to_union))
            case MemberDetailsCorrected():
                self._record(
                    ProfileChanged(
                        **common,
                        birth_date=event.birth_date,
                        migrant_worker=event.migrant_worker,
                        ethnic_minority=event.ethnic_minority,
                        martyr_family=event.martyr_family,
                    )
                )
            case MembershipEnded():
                self._record(
                    ProfileChanged(**common, active=False, status_date=event.effective_date)
                )
            case MemberRejoined():
                self._record(
                    ProfileChanged(
                        **common,
                        active=True,
                        status_date=event.join_date,
                        base_union=event.base_union,
                    )
                )
