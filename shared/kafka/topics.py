"""Every topic Jinhui uses, with its partition count. Topics are created up front, before
anything produces: a broker that auto-creates them would pick its own partition count."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


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

TOPICS: tuple[Topic, ...] = (
    Topic(MEMBERS_EVENTS, 8, "members", "Member life events, keyed by member id"),
    Topic(
        ENTITLEMENTS_EVENTS, 8, "entitlements", "Reservations and rejections, keyed by member id"
    ),
    Topic(DISBURSEMENTS_EVENTS, 8, "disbursements", "Disbursement requests and outcomes"),
    Topic(HARDSHIP_EVENTS, 8, "hardship", "Hardship register changes (ids and levels only)"),
    Topic(HR_EMPLOYEES, 8, "hr", "Inbound HR system events, keyed by employee number"),
    Topic(PAYROLL_BENEFITS, 8, "disbursements", "Issued and reversed benefits for payroll"),
)


def dlq(topic: str) -> str:
    return f"{topic}.dlq"


def all_topics() -> list[Topic]:
    """Every topic with its dead-letter topic (one partition: order there does not matter)."""
    dead = [Topic(dlq(t.name), 1, t.owner, f"Dead letters of {t.name}") for t in TOPICS]
    return [*TOPICS, *dead]


async def ensure_topics(bootstrap_servers: str, topics: list[Topic] | None = None) -> list[str]:
    """Create the topics that do not exist yet; returns the names it created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in (topics or all_topics()) if t.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(t.name, t.partitions, 1) for t in missing])
        return [t.name for t in missing]
    finally:
        await admin.close()
