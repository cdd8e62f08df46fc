"""Commands the member registry accepts (imperative, validated at the edge).

ID numbers and phones are `SecretStr`: they never show in a repr, a log line or a traceback.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from services.members.contracts import EmploymentForm, EndReason, Sex
from shared.clock import PlausibleDate


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegisterMember(Command):
    base_union: str = Field(description="Org path of the member's base union")
    name: str = Field(min_length=1, max_length=100)
    id_number: SecretStr = Field(description="Resident ID number, 18 characters (GB 11643)")
    phone: SecretStr | None = Field(default=None, description="Mobile number")
    birth_date: PlausibleDate | None = Field(
        default=None, description="Optional; must match the ID number when given"
    )
    sex: Sex | None = Field(default=None, description="Optional; must match the ID number")
    join_date: PlausibleDate
    employment_form: EmploymentForm = EmploymentForm.STANDARD
    migrant_worker: bool = Field(default=False, description="农民工")
    ethnic_minority: bool = False
    martyr_family: bool = Field(default=False, description="Family of a revolutionary martyr")
    spouse_member_id: str | None = Field(
        default=None, description="The spouse's member id, when the spouse is also a member"
    )
    employee_number_source: str | None = Field(
        default=None,
        max_length=200,
        description="The HR system that issued `employee_number` (its CloudEvents source); "
        "none: the base union's own roster",
    )
    employee_number: str | None = Field(default=None, max_length=64)


class LinkSpouse(Command):
    spouse_member_id: str


class RecordChildBirth(Command):
    birth_date: PlausibleDate
    birth_order: int = Field(ge=1, description="1, 2, 3…; 3 and above count as third or later")
    within_policy: bool = Field(description="Born within the family-planning policy")
    other_parent_member_id: str | None = None

    @property
    def order(self) -> int:
        return min(self.birth_order, 3)


class RegisterNewEmploymentForm(Command):
    employment_form: EmploymentForm
    registered_on: PlausibleDate
    platform: str | None = Field(default=None, max_length=100)


class TransferMember(Command):
    to_union: str
    effective_date: PlausibleDate


class CorrectMemberDetails(Command):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    id_number: SecretStr | None = None
    phone: SecretStr | None = None
    migrant_worker: bool | None = None
    ethnic_minority: bool | None = None
    martyr_family: bool | None = None
    employee_number: str | None = Field(default=None, max_length=64)


class EndMembership(Command):
    reason: EndReason
    effective_date: PlausibleDate


class RejoinMember(Command):
    base_union: str | None = Field(default=None, description="Defaults to the last base union")
    join_date: PlausibleDate
