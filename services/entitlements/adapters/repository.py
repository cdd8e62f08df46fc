from __future__ import annotations

from services.entitlements.domain.ledger import MemberLedger
from shared.aggregate import Repository
from shared.eventstore.store import EventStore


def ledger_repository(store: EventStore) -> Repository[MemberLedger]:
    return Repository(store, MemberLedger, "ledger")
