"""What entitlements knows of a member, from the members' events: stream `profile-<member_id>`.

Decisions need facts that arrive on another topic (registration, birthdays, births, the end of a
membership). They are recorded here as entitlements' own events, so a ledger decision can be
replayed from this service's store alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from services.entitlements.domain.events import (
    BirthdayNoted,
    ChildNoted,
    ProfileChanged,
    ProfileOpened,
)
from services.members.contracts import (
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


def age_on(birth_date: date, day: date) -> int:
    """Full years of age on `day` (a child born on 29 February turns a year older on 1 March in
    a common year)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def born_after_for(max_age: int, day: date) -> date:
    """A child born after the returned day is at most `max_age` on `day`: the one age rule the
    decision and the eligibility list share."""
    year = day.year - max_age - 1
    try:
        return date(year, day.month, day.day)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


@dataclass(frozen=True)
class Standing:
    """Where a member stood on one day: what a decision dated that day may rely on."""

    base_union: str
    employment_form: str
    migrant_worker: bool
    ethnic_minority: bool
    martyr_family: bool
    in_hardship: bool
    active: bool

    @property
    def groups(self) -> frozenset[str]:
        """The groups of clause 5 the member belongs to on that day."""
        flags = {
            "martyr_family": self.martyr_family,
            "hardship": self.in_hardship,
            "new_employment_form": self.employment_form != "standard",
            "migrant_worker": self.migrant_worker,
            "ethnic_minority": self.ethnic_minority,
        }
        return frozenset(name for name, holds in flags.items() if holds)


_STANDING_FIELDS = (
    "base_union",
    "employment_form",
    "migrant_worker",
    "ethnic_minority",
    "martyr_family",
    "in_hardship",
    "active",
)


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
        self.changes: list[ProfileChanged] = []
        self._opened: Standing | None = None

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
                self._opened = Standing(
                    base_union=event.base_union,
                    employment_form=event.employment_form,
                    migrant_worker=event.migrant_worker,
                    ethnic_minority=event.ethnic_minority,
                    martyr_family=event.martyr_family,
                    in_hardship=False,
                    active=True,
                )
            case BirthdayNoted():
                self.birthdays[event.year] = event.birthday
            case ChildNoted():
                self.children[event.child_id] = ChildFacts(
                    event.child_id, event.birth_date, event.birth_order, event.within_policy
                )
            case ProfileChanged():
                self.changes.append(event)
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

    def standing_on(self, day: date) -> Standing:
        """The member as of `day`: the registration, then every change that held by then (a
        change is dated by when it took effect, never by when it arrived here)."""
        assert self.join_date is not None and self._opened is not None
        standing = replace(self._opened, active=day >= self.join_date)
        dated = sorted(
            (c for c in self.changes if (_effective(c) or date.min) <= day),
            key=lambda c: _effective(c) or date.min,
        )
        for change in dated:
            values = {f: getattr(change, f) for f in _STANDING_FIELDS}
            standing = replace(standing, **{k: v for k, v in values.items() if v is not None})
        return standing

    def active_on(self, day: date) -> bool:
        return self.standing_on(day).active

    def note_hardship(self, on_register: bool, source_event_id: str, on: date) -> None:
        """The member's household entered or left the hardship register (clause 10) on `on`."""
        if self.known and self.in_hardship != on_register:
            self._record(
                ProfileChanged(
                    member_id=self.partition_key(),
                    source_event_id=source_event_id,
                    in_hardship=on_register,
                    effective_on=on,
                )
            )

    # Long on purpose: one match over the member events; each event's effect is read in one place.
    def note(self, event: MemberEvent, source_event_id: str) -> None:
        """Record what a members' event tells; a fact already known is not recorded again."""
        common: dict[str, Any] = {"member_id": event.member_id, "source_event_id": source_event_id}
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
                self._record(
                    ProfileChanged(
                        **common,
                        employment_form=event.employment_form.value,
                        effective_on=event.registered_on,
                    )
                )
            case NewEmploymentFormEnded():
                self._record(
                    ProfileChanged(
                        **common, employment_form="standard", effective_on=event.ended_on
                    )
                )
            case MemberTransferred():
                self._record(
                    ProfileChanged(
                        **common, base_union=event.to_union, effective_on=event.effective_date
                    )
                )
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
                    ProfileChanged(
                        **common,
                        active=False,
                        status_date=event.effective_date,
                        effective_on=event.effective_date,
                    )
                )
            case MemberRejoined():
                self._record(
                    ProfileChanged(
                        **common,
                        active=True,
                        status_date=event.join_date,
                        base_union=event.base_union,
                        effective_on=event.join_date,
                    )
                )


def _effective(change: ProfileChanged) -> date | None:
    """When a change took effect (older records name it only as the status date)."""
    return change.effective_on or change.status_date
