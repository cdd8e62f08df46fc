"""What the member registry publishes for other services: its events on `members.events.v1`,
keyed by member id, the vocabulary they use, and rules about members that others must apply
exactly as the registry does. Other services import these, and nothing else, from members.

The events carry no ID number, phone, income or health data: consumers get what they need to
decide entitlements (dates, union, employment form, flags) and nothing more. A correction of an
ID number or phone says which fields changed, never their values.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from shared.events import DomainEvent
from shared.kafka.topics import MEMBERS_EVENTS


def birthday_in(birth_date: date, year: int) -> date:
    """The day a member's birthday is kept in `year`: 29 February → 28 February in common years."""
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class EmploymentForm(StrEnum):
    STANDARD = "standard"
    TRUCK_DRIVER = "truck_driver"
    RIDE_HAILING_DRIVER = "ride_hailing_driver"
    COURIER = "courier"
    FOOD_DELIVERY_RIDER = "food_delivery_rider"
    DOMESTIC_SERVICE = "domestic_service"

    @property
    def is_new_form(self) -> bool:
        return self is not EmploymentForm.STANDARD


class EndReason(StrEnum):
    LEFT = "left"
    RETIRED = "retired"
    DECEASED = "deceased"


class MemberEvent(DomainEvent):
    topic = MEMBERS_EVENTS
    member_id: str


class MemberRegistered(MemberEvent):
    """Personal fields, and who needs them: no ID number, phone or income travels here at all
    (the registry keeps them sealed). Every consumer receives every field of a topic; each
    field below says which consumer reads it and why, and the others ignore it."""

    event_type = "jinhui.members.MemberRegistered"
    base_union: str
    name: str = Field(
        description="Personal. Disbursements only: the name on a batch's lines, which a finance "
        "officer checks before paying; entitlements and hardship do not read it"
    )
    sex: Sex | None = Field(
        default=None,
        description="Personal. Read by no consumer today (the registry's own record)",
    )
    birth_date: date = Field(
        description="Personal. Entitlements: the birthday gift's day (clause 7); disbursements "
        "keeps the month only, for a month's birthday batch"
    )
    join_date: date
    employment_form: EmploymentForm = EmploymentForm.STANDARD
    migrant_worker: bool = False
    ethnic_minority: bool = False
    martyr_family: bool = False
    employee_number: str | None = None
    employee_number_source: str | None = Field(
        default=None, description="The HR system that issued the employee number, if any"
    )


class SpouseLinked(MemberEvent):
    """Recorded on both spouses' streams."""

    event_type = "jinhui.members.SpouseLinked"
    spouse_member_id: str


class ChildBirthRegistered(MemberEvent):
    """Recorded on each parent who is a member, with the same `child_id`, so that each spouse
    can receive the childbirth gift once for this child."""

    event_type = "jinhui.members.ChildBirthRegistered"
    child_id: str
    birth_date: date
    birth_order: int = Field(ge=1, le=3, description="1, 2, or 3 for the third and later")
    within_policy: bool
    other_parent_member_id: str | None = None


class NewEmploymentFormRegistered(MemberEvent):
    event_type = "jinhui.members.NewEmploymentFormRegistered"
    employment_form: EmploymentForm
    registered_on: date
    platform: str | None = None


class NewEmploymentFormEnded(MemberEvent):
    """The member went back to standard employment."""

    event_type = "jinhui.members.NewEmploymentFormEnded"
    previous_form: EmploymentForm
    ended_on: date


class BirthdayReached(MemberEvent):
    """Once per member per year; 29 February counts as 28 February in common years."""

    event_type = "jinhui.members.BirthdayReached"
    year: int
    birthday: date
    noticed_on: date


class MemberTransferred(MemberEvent):
    event_type = "jinhui.members.MemberTransferred"
    from_union: str
    to_union: str
    effective_date: date


class MemberDetailsCorrected(MemberEvent):
    """`fields` names everything corrected; values are given only for non-personal fields."""

    event_type = "jinhui.members.MemberDetailsCorrected"
    fields: tuple[str, ...]
    name: str | None = None
    sex: Sex | None = None
    birth_date: date | None = None
    migrant_worker: bool | None = None
    ethnic_minority: bool | None = None
    martyr_family: bool | None = None
    employee_number: str | None = None


class MembershipEnded(MemberEvent):
    event_type = "jinhui.members.MembershipEnded"
    reason: EndReason
    effective_date: date


class MemberRejoined(MemberEvent):
    event_type = "jinhui.members.MemberRejoined"
    base_union: str
    join_date: date
