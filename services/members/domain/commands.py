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
    name: str = Field(min_length=1, max_length=100, description="姓名", examples=["王芳"])
    id_number: SecretStr = Field(
        description="身份证号: resident ID number, 18 characters (GB 11643)",
    )
    phone: SecretStr | None = Field(default=None, description="Mobile number")
    birth_date: PlausibleDate | None = Field(
        default=None, description="Optional; must match the ID number when given"
    )
    sex: Sex | None = Field(default=None, description="Optional; must match the ID number")
    join_date: PlausibleDate
    employment_form: EmploymentForm = Field(
        default=EmploymentForm.STANDARD,
        description="就业形态: standard, or a new form of employment (truck_driver, "
        "ride_hailing_driver, courier, food_delivery_rider, domestic_service)",
    )
    migrant_worker: bool = Field(default=False, description="农民工")
    ethnic_minority: bool = Field(default=False, description="少数民族")
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
    employee_number: str | None = Field(
        default=None,
        max_length=64,
        description="工号 in the employer's HR system",
        examples=["A000123"],
    )


class LinkSpouse(Command):
    spouse_member_id: str = Field(description="配偶的会员编号: the spouse's member id")


class RecordChildBirth(Command):
    birth_date: PlausibleDate
    birth_order: int = Field(
        ge=1, le=20, strict=True, description="1, 2, 3…; 3 and above count as third or later"
    )
    within_policy: bool = Field(description="Born within the family-planning policy")
    other_parent_member_id: str | None = Field(
        default=None,
        description="The other parent's member id, when also a member (both get the gift)",
    )

    @property
    def order(self) -> int:
        return min(self.birth_order, 3)


class RegisterNewEmploymentForm(Command):
    employment_form: EmploymentForm = Field(
        description="新就业形态: truck_driver, ride_hailing_driver, courier, food_delivery_rider "
        "or domestic_service"
    )
    registered_on: PlausibleDate
    platform: str | None = Field(
        default=None, max_length=100, description="平台: the platform worked for", examples=["美团"]
    )


class TransferMember(Command):
    to_union: str = Field(
        description="Org path of the new base union", examples=["shanxi/taiyuan/xiaodian/bu-0003"]
    )
    effective_date: PlausibleDate


class CorrectMemberDetails(Command):
    name: str | None = Field(
        default=None, min_length=1, max_length=100, description="姓名, corrected", examples=["王芳"]
    )
    id_number: SecretStr | None = Field(default=None, description="身份证号, corrected")
    phone: SecretStr | None = Field(default=None, description="手机号, corrected")
    migrant_worker: bool | None = Field(default=None, description="农民工")
    ethnic_minority: bool | None = Field(default=None, description="少数民族")
    martyr_family: bool | None = Field(default=None, description="烈属")
    employee_number: str | None = Field(default=None, max_length=64, description="工号, corrected")


class EndMembership(Command):
    reason: EndReason = Field(
        description="离会原因: left (离职), retired (退休) or deceased (去世)"
    )
    effective_date: PlausibleDate


class RejoinMember(Command):
    base_union: str | None = Field(default=None, description="Defaults to the last base union")
    join_date: PlausibleDate
