"""Policy versions and union standards: publishing them, and knowing which govern a decision.

Published versions live in the stream `policy-book`; every replica refreshes its book when the
stream has grown (one cheap query per decision), so a version published through one replica
governs decisions on all of them.
"""

from __future__ import annotations

import time
from datetime import date

from services.entitlements.contracts import UnionStandardSet
from services.entitlements.domain.events import PolicyVersionPublished
from services.entitlements.domain.policy import PolicyBook, PolicyVersion
from services.entitlements.domain.standards import UnionStandards, union_limit
from shared.aggregate import Repository
from shared.db.engine import transaction_memo
from shared.errors import Conflict, InvalidInput
from shared.eventstore.store import EventStore

POLICY_STREAM = "policy-book"


class PolicyRegistry:
    """The bundled versions plus those published since."""

    def __init__(self, bundled: PolicyBook) -> None:
        self._bundled = bundled
        self._book = bundled
        self._seen = 0
        self._checked_at = float("-inf")
        self._standards: dict[str, tuple[float, list[UnionStandards]]] = {}

    @property
    def book(self) -> PolicyBook:
        return self._book

    def in_force(self, on: date) -> PolicyVersion:
        return self._book.in_force(on)

    async def refresh_for_reading(self, store: EventStore, within_s: float = 1.0) -> None:
        """For reads, which show what the book says: a version published through another
        replica shows here within `within_s`. Decisions refresh in their own transaction."""
        if time.monotonic() - self._checked_at >= within_s:
            await self.refresh(store, again=True)

    async def standards_for_reading(
        self, store: EventStore, org: str, within_s: float = 1.0
    ) -> list[UnionStandards]:
        """The standards along `org`'s chain for views, as `standards_along` reads them, kept
        for `within_s`: one set through another replica shows here within it, one set here at
        once. Decisions read theirs in their own transaction."""
        now = time.monotonic()
        held = self._standards.get(org)
        if held is None or now - held[0] >= within_s:
            if len(self._standards) > 10_000:
                self._standards.clear()
            held = (now, await standards_along(store, org))
            self._standards[org] = held
        return held[1]

    def forget_standards(self) -> None:
        self._standards.clear()

    async def refresh(self, store: EventStore, *, again: bool = False) -> None:
        """Once per transaction (unless `again`): a consumer deciding fifty requests in one
        transaction asks once."""
        self._checked_at = time.monotonic()
        memo = transaction_memo(store.session)
        if POLICY_STREAM in memo and not again:
            return
        memo[POLICY_STREAM] = True
        version = await store.current_version(POLICY_STREAM)
        if version == self._seen:
            return
        book = self._bundled
        for stored in await store.load(POLICY_STREAM):
            assert isinstance(stored.event, PolicyVersionPublished)
            book = book.with_version(stored.event.policy)
        self._book, self._seen = book, version


async def publish(
    registry: PolicyRegistry, store: EventStore, policy: PolicyVersion, today: date, actor: str
) -> PolicyVersionPublished:
    """A new version from its effective date on; never retroactive, never a reused name."""
    await store.lock(POLICY_STREAM)
    await registry.refresh(store, again=True)
    if any(v.version == policy.version for v in registry.book.versions):
        raise Conflict(f"version {policy.version} exists already", rule="policy.version-exists")
    if policy.effective_from <= today:
        raise InvalidInput(
            "a new version takes effect from a future date (decisions already made keep theirs)",
            field="effective_from",
            rule="policy.retroactive",
        )
    event = PolicyVersionPublished(policy=policy, published_by=actor)
    await store.append(
        POLICY_STREAM,
        await store.current_version(POLICY_STREAM),
        [event],
        partition_key="policy",
        metadata={"actor": actor},
    )
    await registry.refresh(store, again=True)
    return event


def standards_repository(store: EventStore) -> Repository[UnionStandards]:
    return Repository(store, UnionStandards, "standards")


async def set_standard(
    registry: PolicyRegistry,
    store: EventStore,
    *,
    union: str,
    benefit: str,
    effective_from: date,
    values: dict[str, int],
    actor: str,
    actor_org: str,
    today: date,
    correction_reason: str | None = None,
) -> UnionStandardSet:
    await registry.refresh(store)
    try:
        policy = registry.in_force(effective_from)
    except LookupError as exc:
        raise InvalidInput(str(exc), field="effective_from") from None
    repo = standards_repository(store)
    standards = await repo.get(union, for_update=True) or repo.new(union)
    event = standards.set(
        benefit=benefit,
        effective_from=effective_from,
        values=values,
        policy=policy,
        set_by=actor,
        set_by_org=actor_org,
        today=today,
        correction_reason=correction_reason,
    )
    await repo.save(standards, metadata={"actor": actor})
    memo = transaction_memo(store.session)
    for key in [k for k in memo if k.startswith("standards-")]:
        del memo[key]
    return event


async def standards_along(store: EventStore, org: str) -> list[UnionStandards]:
    """The standards of `org` and of each union above it, nearest first (read once per
    transaction)."""
    memo = transaction_memo(store.session)
    key = f"standards-{org}"
    if key not in memo:
        memo[key] = await _load_standards_along(store, org)
    return memo[key]


async def _load_standards_along(store: EventStore, org: str) -> list[UnionStandards]:
    parts = org.split("/")
    repo = standards_repository(store)
    chain = [repo.stream_id("/".join(parts[:depth])) for depth in range(len(parts), 0, -1)]
    streams = await store.load_many(chain)  # one query for the whole chain
    found = []
    for stream_id in chain:
        if streams[stream_id]:
            standards = UnionStandards(stream_id)
            standards.replay(s.event for s in streams[stream_id])
            found.append(standards)
    return found


async def limit_for(
    store: EventStore,
    org: str,
    benefit: str,
    on: date,
    *,
    inherited: bool = True,
    chain: list[UnionStandards] | None = None,
) -> UnionStandardSet | None:
    """The standard in force for members of `org`: its own, or (where the policy lets a union's
    standard be inherited) the nearest union's above it. `chain`: the unions' standards as a
    replay knows them at its point in the stream, instead of as stored now."""
    if chain is None:
        chain = await standards_along(store, org)
    if not inherited:
        chain = [s for s in chain if s.union == org]
    return union_limit(chain, benefit, on)
