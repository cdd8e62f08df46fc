"""A member's ledger for one year: stream `ledger-<member_id>-<year>`.

Nothing here is edited in place: every amount is the fold of the stream's entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.entitlements.domain.events import LedgerLine, LedgerOpened
from services.entitlements.domain.policy import PolicyVersion
from shared.aggregate import Aggregate
from shared.events import DomainEvent


@dataclass
class BenefitBalance:
    benefit: str
    clause: str
    cap_fen: int | None
    max_count: int | None
    used_fen: int = 0
    reserved_fen: int = 0
    count: int = 0

    @property
    def remaining_fen(self) -> int | None:
        if self.cap_fen is None:
            return None
        return self.cap_fen - self.used_fen - self.reserved_fen


def ledger_id(member_id: str, year: int) -> str:
    return f"{member_id}-{year}"


class MemberLedger(Aggregate):
    member_id: str | None = None
    year: int | None = None
    base_union: str | None = None
    policy_version: str | None = None

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.balances: dict[str, BenefitBalance] = {}

    def partition_key(self) -> str:
        assert self.member_id is not None
        return self.member_id

    def apply(self, event: DomainEvent) -> None:
        match event:
            case LedgerOpened():
                self.member_id = event.member_id
                self.year = event.year
                self.base_union = event.base_union
                self.policy_version = event.policy_version
                self.balances = {
                    line.benefit: BenefitBalance(
                        line.benefit, line.clause, line.cap_fen, line.max_count
                    )
                    for line in event.lines
                }

    @property
    def opened(self) -> bool:
        return self.member_id is not None

    def open(
        self,
        *,
        member_id: str,
        year: int,
        base_union: str,
        policy: PolicyVersion,
        source_event_id: str,
    ) -> None:
        if self.opened:
            return
        lines = [
            LedgerLine(
                benefit=name, clause=rule.clause, cap_fen=rule.cap_fen, max_count=rule.max_count
            )
            for name, rule in policy.member_benefits.items()
            if rule.annual
        ]
        self._record(
            LedgerOpened(
                member_id=member_id,
                year=year,
                base_union=base_union,
                policy_version=policy.version,
                source_event_id=source_event_id,
                lines=lines,
            )
        )
