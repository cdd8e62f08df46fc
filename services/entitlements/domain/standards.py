"""A union's own standards, where the notice lets a base union set them (voucher amount and
expiry, the training-subsidy standard): stream `standards-<org>`. Never above the provincial
ceiling; each setting takes effect from its date."""

from __future__ import annotations

from datetime import date

from services.entitlements.contracts import UnionStandardSet
from services.entitlements.domain.policy import BenefitRule, PolicyVersion
from shared.aggregate import Aggregate
from shared.errors import Forbidden, InvalidInput
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
            history.sort(key=lambda e: (e.effective_from, set_on(e)))

    def in_force(self, benefit: str, on: date) -> UnionStandardSet | None:
        """The latest setting effective on `on`; of two from the same day, the later set (a
        correction of a past standard is read from the day it was made, in the stream's
        order, so a replay of a decision made before it reads what that decision read)."""
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
        set_by_org: str,
        today: date,
        correction_reason: str | None = None,
    ) -> UnionStandardSet:
        """Takes effect no earlier than the day it is set: a standard written today never
        changes a decision already made under yesterday's. A correction of a past standard
        (`correction_reason`) may reach back into the open books, and governs only requests
        made from today on: a decision already made keeps the standard it was made under."""
        rule = policy.rule_for(benefit)
        if rule is None:
            raise InvalidInput(f"{benefit} is not a benefit of {policy.version}", field="benefit")
        if correction_reason is not None and effective_from.year < today.year - 1:
            raise InvalidInput(
                f"更正只能追溯到 {today.year - 1} 年初（a correction reaches back at most to "
                f"{today.year - 1}-01-01）",
                field="effective_from",
                rule="standard.correction-too-old",
                clause=rule.clause,
            )
        if effective_from < today and correction_reason is None:
            raise InvalidInput(
                f"标准自 {effective_from} 起生效早于设定之日 {today}，不能追溯"
                f"（a standard takes effect no earlier than the day it is set, {today}）",
                field="effective_from",
                rule="standard.backdated",
                clause=rule.clause,
            )
        if set_by_org != self.union and not rule.union_standard_inherited:
            raise Forbidden(
                f"{rule.title}的标准由该基层工会自行制定，上级工会不能代为设定"
                f"（each base union sets its own {rule.title_en} standard）",
                rule="standard.owner",
                clause=rule.clause,
            )
        for name in values:
            if name not in rule.union_may_set:
                raise InvalidInput(
                    f"the notice does not let a union set {name} for {benefit}",
                    field=name,
                    rule="policy.not-settable",
                    clause=rule.clause,
                )
        for name, value in values.items():
            _within_ceiling(rule, name, value, policy.version)
        if not values:
            raise InvalidInput("set at least one value", field="(root)")
        event = UnionStandardSet(
            union=self.union,
            benefit=benefit,
            effective_from=effective_from,
            clause=rule.clause,
            policy_version=policy.version,
            set_by=set_by,
            set_by_org=set_by_org,
            set_on=today,
            correction_reason=correction_reason,
            **values,
        )
        self._record(event)
        return event


def _within_ceiling(rule: BenefitRule, name: str, value: int, version: str) -> None:
    ceiling = rule.ceiling_of(name)  # type: ignore[arg-type]
    if ceiling is None and name != "expiry_days":
        raise InvalidInput(
            f"政策 {version} 未给 {name} 规定上限，不能设定（the policy bounds no {name}）",
            field=name,
            rule="policy.no-ceiling",
            clause=rule.clause,
        )
    if ceiling is not None and value > ceiling:
        shown = f"{value} 天" if name == "expiry_days" else yuan_text(value)
        limit = f"{ceiling} 天" if name == "expiry_days" else yuan_text(ceiling)
        raise InvalidInput(
            f"{shown}高于省总工会规定的上限 {limit}",
            field=name,
            rule="policy.ceiling",
            clause=rule.clause,
            policy_version=version,
            ceiling=ceiling,
        )


def set_on(setting: UnionStandardSet) -> date:
    """The day a setting was made (before it was recorded, no setting reached back)."""
    return setting.set_on or setting.effective_from


def union_limit(standards: list[UnionStandards], benefit: str, on: date) -> UnionStandardSet | None:
    """The nearest union's setting in force (the base union's own before its ancestors')."""
    for union in standards:  # nearest first
        found = union.in_force(benefit, on)
        if found is not None:
            return found
    return None


def applicable(
    chain: list[UnionStandards], org: str, policy: PolicyVersion
) -> list[UnionStandardSet]:
    """Every setting that can govern members of `org`, nearest union first: its own, and a
    union's above it only for a benefit whose standard is inherited. The decision reads the
    same chain through `limit_for`, so a view never lists a standard the decision ignores."""
    found = []
    for standards in chain:
        for benefit, history in standards.settings.items():
            rule = policy.rule_for(benefit)
            if standards.union == org or (rule is not None and rule.union_standard_inherited):
                found.extend(history)
    return found
