"""A union's own standards, where the notice lets a base union set them (voucher amount and
expiry, the training-subsidy standard): stream `standards-<org>`. Never above the provincial
ceiling; each setting takes effect from its date."""

from __future__ import annotations

from datetime import date

from services.entitlements.contracts import UnionStandardSet
from services.entitlements.domain.policy import PolicyVersion
from shared.aggregate import Aggregate
from shared.errors import InvalidInput
from shared.events import DomainEvent
from shared.money import yuan_text


class UnionStandards(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.union = stream_id.removeprefix("standards-")
        self.settings: dict[str, list[UnionStandardSet]] = {}

    def partition_key(self) -> str:
        return f"union:{self.union}"

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, UnionStandardSet):
            history = self.settings.setdefault(event.benefit, [])
            history.append(event)
            history.sort(key=lambda e: e.effective_from)

    def in_force(self, benefit: str, on: date) -> UnionStandardSet | None:
        governing = [s for s in self.settings.get(benefit, []) if s.effective_from <= on]
        return governing[-1] if governing else None

    def set(
        self,
        *,
        benefit: str,
        effective_from: date,
        values: dict[str, int],
        policy: PolicyVersion,
        set_by: str,
    ) -> UnionStandardSet:
        rule = policy.rule_for(benefit)
        if rule is None:
            raise InvalidInput(f"{benefit} is not a benefit of {policy.version}", field="benefit")
        for name in values:
            if name not in rule.union_may_set:
                raise InvalidInput(
                    f"the notice does not let a union set {name} for {benefit}",
                    field=name,
                    rule="policy.not-settable",
                    clause=rule.clause,
                )
        for name in ("amount_fen", "standard_fen", "yearly_total_fen"):
            amount = values.get(name)
            if amount is not None and rule.cap_fen is not None and amount > rule.cap_fen:
                raise InvalidInput(
                    f"{yuan_text(amount)}高于省总工会规定的上限 {yuan_text(rule.cap_fen)}",
                    field=name,
                    rule="policy.ceiling",
                    clause=rule.clause,
                    policy_version=policy.version,
                )
        if not values:
            raise InvalidInput("set at least one value", field="(root)")
        event = UnionStandardSet(
            union=self.union,
            benefit=benefit,
            effective_from=effective_from,
            clause=rule.clause,
            policy_version=policy.version,
            set_by=set_by,
            **values,
        )
        self._record(event)
        return event


def union_limit(standards: list[UnionStandards], benefit: str, on: date) -> UnionStandardSet | None:
    """The nearest union's setting in force (the base union's own before its ancestors')."""
    for union in standards:  # nearest first
        found = union.in_force(benefit, on)
        if found is not None:
            return found
    return None
