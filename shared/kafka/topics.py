"""Every topic Jinhui uses, with its partition count. Topics are created up front, before
anything produces: a broker that auto-creates them would pick its own partition count."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    owner: str
    description: str


MEMBERS_EVENTS = "members.events.v1"
ENTITLEMENTS_EVENTS = "entitlements.events.v1"
DISBURSEMENTS_EVENTS = "disbursements.events.v1"
HARDSHIP_EVENTS = "hardship.events.v1"
HR_EMPLOYEES = "hr.employees.v1"
PAYROLL_BENEFITS = "payroll.benefits.v1"
PAYROLL_RESULTS = "payroll.results.v1"

TOPICS: tuple[Topic, ...] = (
    Topic(MEMBERS_EVENTS, 8, "members", "Member life events, keyed by member id"),
    Topic(
        ENTITLEMENTS_EVENTS, 8, "entitlements", "Reservations and rejections, keyed by member id"
    ),
    Topic(DISBURSEMENTS_EVENTS, 8, "disbursements", "Disbursement requests and outcomes"),
    Topic(HARDSHIP_EVENTS, 8, "hardship", "Hardship register changes (ids and levels only)"),
    Topic(HR_EMPLOYEES, 8, "hr", "Inbound HR system events, keyed by employee number"),
    Topic(PAYROLL_BENEFITS, 8, "disbursements", "Issued and reversed benefits for payroll"),
    Topic(PAYROLL_RESULTS, 8, "payroll", "Payroll's answers (paid or failed), keyed by member id"),
)


# The event field each topic is keyed by, where the event has it: a message whose key is not
# that value would be ordered with another member's (or case's) events, so it is refused.
KEY_FIELDS = {
    MEMBERS_EVENTS: "member_id",
    ENTITLEMENTS_EVENTS: "member_id",
    DISBURSEMENTS_EVENTS: "member_id",
    HARDSHIP_EVENTS: "case_id",
    HR_EMPLOYEES: "employee_number",
    PAYROLL_BENEFITS: "member_id",
    PAYROLL_RESULTS: "member_id",
}


# The suite's own consumer groups of each topic. An outside reader (payroll) counts once it has
# committed an offset there. See `shared.kafka.read_through`.
READERS: dict[str, tuple[str, ...]] = {
    MEMBERS_EVENTS: ("entitlements.members", "disbursements.members", "hardship.members"),
    ENTITLEMENTS_EVENTS: ("disbursements.entitlements",),
    DISBURSEMENTS_EVENTS: ("entitlements.disbursements",),
    HARDSHIP_EVENTS: ("entitlements.hardship", "disbursements.hardship"),
    HR_EMPLOYEES: ("members.hr",),
    PAYROLL_BENEFITS: (),
    PAYROLL_RESULTS: ("disbursements.payroll",),
}


def key_of(topic: str, event: object) -> str | None:
    field = KEY_FIELDS.get(topic)
    value = getattr(event, field, None) if field else None
    return value if isinstance(value, str) else None


# Types a service publishes whose models other services do not load (a contract names them so
# that a consumer skips them on purpose instead of dead-lettering them as unknown).
_ANNOUNCED: dict[str, set[str]] = {}


def announce(topic: str, *event_types: str) -> None:
    _ANNOUNCED.setdefault(topic, set()).update(event_types)


def published_on(topics: list[str]) -> frozenset[str]:
    """The event types known to be published on `topics`: registered in this process, or
    announced by the publishing service's contract."""
    from shared.events import registered_event_types

    registered = {name for name, cls in registered_event_types().items() if cls.topic in topics}
    return frozenset(registered.union(*(_ANNOUNCED.get(t, set()) for t in topics)))


def dlq(topic: str) -> str:
    return f"{topic}.dlq"


def all_topics() -> list[Topic]:
    """Every topic with its dead-letter topic (one partition: order there does not matter)."""
    dead = [Topic(dlq(t.name), 1, t.owner, f"Dead letters of {t.name}") for t in TOPICS]
    return [*TOPICS, *dead]


def topics_of(service: str, consumed: list[str]) -> list[Topic]:
    """The topics a service looks after: those it owns or reads, each with its dead letters."""
    mine = [t for t in TOPICS if t.owner == service or t.name in consumed]
    return [*mine, *(Topic(dlq(t.name), 1, t.owner, f"Dead letters of {t.name}") for t in mine)]


def marker_topic(service: str) -> Topic:
    """A topic only this service creates and nothing writes to: if it is gone, the broker has
    lost its data (a memory-only broker restarted), and whatever it held may be lost too."""
    return Topic(f"jinhui.marker.{service}", 1, service, "Present while the broker keeps its data")


async def keep_topics(
    service: str,
    bootstrap_servers: str,
    topics: list[Topic],
    interval_s: float,
    on_broker_emptied: Callable[[], Awaitable[object]],
    connection: dict[str, Any] | None = None,
    replication: Replication | None = None,
) -> None:
    """Create the service's topics at start and again whenever they are found missing. When
    the broker has come back empty (its marker topic is gone), `on_broker_emptied` runs after
    the topics are back: the service re-sends what the broker may have lost."""
    told = False
    marker = marker_topic(service)
    while True:
        try:
            created = await ensure_topics(
                bootstrap_servers, [*topics, marker], connection, replication
            )
        except (TopicAuthorizationFailedError, ClusterAuthorizationFailedError):
            if not told:  # on a managed cluster the operator creates them (deploy/k8s)
                log.warning("not allowed to create topics; the cluster's operator must")
                told = True
        else:
            if created:
                log.warning("topics were missing and have been created", extra={"topics": created})
            if marker.name in created:
                await on_broker_emptied()
        await asyncio.sleep(interval_s)


@dataclass(frozen=True)
class Replication:
    """How many copies of a created topic the cluster keeps, and how many must have a write."""

    factor: int = 1
    min_insync: int | None = None

    def config(self) -> dict[str, str]:
        return {"min.insync.replicas": str(self.min_insync)} if self.min_insync else {}


async def ensure_topics(
    bootstrap_servers: str,
    topics: list[Topic] | None = None,
    connection: dict[str, Any] | None = None,
    replication: Replication | None = None,
) -> list[str]:
    """Create the topics that do not exist yet; returns the names it created."""
    copies = replication or Replication()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **(connection or {}))
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [t for t in (topics or all_topics()) if t.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(t.name, t.partitions, copies.factor, topic_configs=copies.config())
                        for t in missing
                    ]
                )
        return [t.name for t in missing]
    finally:
        await admin.close()
