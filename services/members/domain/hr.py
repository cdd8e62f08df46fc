"""What HR systems send on `hr.employees.v1` (CloudEvents, binary mode, keyed by employee number).

Each carries the HR system's own event id (`hr_event_id`) and employee number; the CloudEvent
`source` names the HR system, and an employee number is unique within its source. ID numbers
travel here because HR holds them; Jinhui stores them only hashed and encrypted, and never
republishes them.
"""

from __future__ import annotations

from pydantic import Field

from services.members.contracts import EmploymentForm, EndReason
from shared.clock import PlausibleDate
from shared.events import DomainEvent
from shared.kafka.topics import HR_EMPLOYEES


class HrEvent(DomainEvent):
    topic = HR_EMPLOYEES
    hr_event_id: str = Field(min_length=1, max_length=100, description="The HR system's event id")
    employee_number: str = Field(min_length=1, max_length=64)


class EmployeeHired(HrEvent):
    event_type = "jinhui.hr.EmployeeHired"
    base_union: str = Field(description="Org path of the employer's base union")
    name: str = Field(min_length=1, max_length=100)
    id_number: str = Field(repr=False, description="Resident ID number (GB 11643)")
    phone: str | None = Field(default=None, repr=False)
    hire_date: PlausibleDate
    employment_form: EmploymentForm = EmploymentForm.STANDARD
    migrant_worker: bool = False
    ethnic_minority: bool = False
    martyr_family: bool = False


class EmployeeDetailsChanged(HrEvent):
    """Only the fields given change; a new base union is a transfer."""

    event_type = "jinhui.hr.EmployeeDetailsChanged"
    effective_date: PlausibleDate
    name: str | None = Field(default=None, min_length=1, max_length=100)
    id_number: str | None = Field(default=None, repr=False)
    phone: str | None = Field(default=None, repr=False)
    base_union: str | None = None
    employment_form: EmploymentForm | None = None
    platform: str | None = None
    migrant_worker: bool | None = None
    ethnic_minority: bool | None = None
    martyr_family: bool | None = None


class ChildBirthReported(HrEvent):
    event_type = "jinhui.hr.ChildBirthReported"
    birth_date: PlausibleDate
    birth_order: int = Field(ge=1)
    within_policy: bool
    other_parent_id_number: str | None = Field(
        default=None, repr=False, description="When the other parent may be a member"
    )
    other_parent_employee_number: str | None = Field(
        default=None, description="When the other parent works for the same employer"
    )


class EmployeeLeft(HrEvent):
    event_type = "jinhui.hr.EmployeeLeft"
    left_on: PlausibleDate
    reason: EndReason = EndReason.LEFT


HR_EVENTS: tuple[type[HrEvent], ...] = (
    EmployeeHired,
    EmployeeDetailsChanged,
    ChildBirthReported,
    EmployeeLeft,
)
