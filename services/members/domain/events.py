"""Events of the member registry, published on `members.events.v1` keyed by member id.

They carry no ID number, income or health data: consumers get what they need to decide
entitlements (dates, union, employment form, flags) and nothing more.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from shared.events import DomainEvent
from shared.kafka.topics import MEMBERS_EVENTS


class EmploymentForm(StrEnum):
    STANDARD = "standard"
    TRUCK_DRIVER = "truck_driver"
    RIDE_HAILING_DRIVER = "ride_hailing_driver"
    COURIER = "courier"
    FOOD_DELIVERY_RIDER = "food_delivery_rider"
    DOMESTIC_SERVICE = "domestic_service"


class MemberEvent(DomainEvent):
    topic = MEMBERS_EVENTS
    member_id: str


class MemberRegistered(MemberEvent):
    event_type = "jinhui.members.MemberRegistered"
    base_union: str
    name: str
    birth_date: date
    join_date: date
    employment_form: EmploymentForm = EmploymentForm.STANDARD
    migrant_worker: bool = False
    ethnic_minority: bool = False
    martyr_family: bool = False
