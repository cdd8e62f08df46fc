"""The member aggregate: one stream per member, `member-<id>`."""

from __future__ import annotations

from datetime import date

from services.members.domain.events import EmploymentForm, MemberRegistered
from shared.aggregate import Aggregate
from shared.errors import Conflict, InvalidInput
from shared.events import DomainEvent


class Member(Aggregate):
    member_id: str | None = None
    base_union: str | None = None
    name: str = ""
    birth_date: date | None = None

    def partition_key(self) -> str:
        assert self.member_id is not None
        return self.member_id

    def apply(self, event: DomainEvent) -> None:
        match event:
            case MemberRegistered():
                self.member_id = event.member_id
                self.base_union = event.base_union
                self.name = event.name
                self.birth_date = event.birth_date

    def register(
        self,
        *,
        member_id: str,
        base_union: str,
        name: str,
        birth_date: date,
        join_date: date,
        employment_form: EmploymentForm,
        migrant_worker: bool,
        ethnic_minority: bool,
        martyr_family: bool,
    ) -> None:
        if self.member_id is not None:
            raise Conflict("the member is already registered", member_id=self.member_id)
        if join_date < birth_date:
            raise InvalidInput("join_date is before birth_date", field="join_date")
        self._record(
            MemberRegistered(
                member_id=member_id,
                base_union=base_union,
                name=name,
                birth_date=birth_date,
                join_date=join_date,
                employment_form=employment_form,
                migrant_worker=migrant_worker,
                ethnic_minority=ethnic_minority,
                martyr_family=martyr_family,
            )
        )
