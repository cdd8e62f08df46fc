"""The AsyncAPI document of Jinhui's Kafka topics, generated from the event models.

Every registered event names its topic, so the document lists each topic with exactly the
messages the code sends or accepts, their JSON Schemas straight from pydantic, and the
CloudEvents headers around them. `jinhui asyncapi` writes it; a test fails when the file in the
repository no longer matches the models.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml
from pydantic.json_schema import models_json_schema

from shared.events import DomainEvent, registered_event_types
from shared.kafka.topics import HR_EMPLOYEES, PAYROLL_RESULTS, TOPICS

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "asyncapi.yaml"
EVENT_MODULES = (  # what each service publishes (its contracts), and HR's inbound events
    "services.members.contracts",
    "services.members.domain.hr",
    "services.entitlements.contracts",
    "services.entitlements.domain.events",
    "services.disbursements.contracts",
    "services.disbursements.domain.payroll",
    "services.hardship.contracts",
)
# Topics other systems write and Jinhui reads, with the service that reads each.
INBOUND = {HR_EMPLOYEES: "members", PAYROLL_RESULTS: "disbursements"}
REF = "#/components/schemas/{model}"


def _load_events() -> dict[str, list[type[DomainEvent]]]:
    for module in EVENT_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            continue
    known = {t.name for t in TOPICS}
    by_topic: dict[str, list[type[DomainEvent]]] = {}
    for _, cls in sorted(registered_event_types().items()):
        if cls.topic in known:
            by_topic.setdefault(cls.topic, []).append(cls)
    return by_topic


def _channel_id(topic: str) -> str:
    head, *rest = topic.replace(".v", "V").split(".")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _headers(cls: type[DomainEvent]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time"],
        "properties": {
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_id": {
                "type": "string",
                "description": "Unique per event; consumers de-duplicate on it",
            },
            "ce_source": {"type": "string", "description": "The producing system"},
            "ce_type": {"type": "string", "const": cls.event_type},
            "ce_time": {"type": "string", "format": "date-time"},
            "ce_schemaversion": {"type": "string", "const": str(cls.schema_version)},
            "content-type": {"type": "string", "const": "application/json"},
            "traceparent": {"type": "string", "description": "W3C trace context"},
        },
    }


# Long on purpose: the AsyncAPI document's shape, mostly literal.
def build() -> dict[str, Any]:
    by_topic = _load_events()
    models = [cls for events in by_topic.values() for cls in events]
    _, schema = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas = schema.get("$defs", {})
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in TOPICS:
        events = by_topic.get(topic.name, [])
        if not events:
            continue
        channel = _channel_id(topic.name)
        channels[channel] = {
            "address": topic.name,
            "description": f"{topic.description}. Partitions: {topic.partitions}. "
            f"Dead letters go to {topic.name}.dlq.",
            "messages": {
                cls.__name__: {"$ref": f"#/components/messages/{cls.__name__}"} for cls in events
            },
        }
        inbound = topic.name in INBOUND
        operations[("receive" if inbound else "send") + channel[:1].upper() + channel[1:]] = {
            "action": "receive" if inbound else "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": (
                f"Jinhui ({topic.owner} systems write, {INBOUND[topic.name]} reads)"
                if inbound
                else f"Published by the {topic.owner} service"
            ),
            "messages": [
                {"$ref": f"#/channels/{channel}/messages/{cls.__name__}"} for cls in events
            ],
        }
        for cls in events:
            messages[cls.__name__] = {
                "name": cls.event_type,
                "title": cls.__name__,
                "summary": (cls.__doc__ or cls.__name__).strip().splitlines()[0],
                "contentType": "application/json",
                "headers": _headers(cls),
                "payload": {"$ref": REF.format(model=cls.__name__)},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Jinhui (晋惠) event contracts",
            "version": "1.0.0",
            "description": (
                "Kafka topics of Jinhui. Every message is a CloudEvent in Kafka binary mode: "
                "attributes in ce_* headers, the JSON payload as the value, keyed by the "
                "entity the topic is ordered by. Delivery is at least once: consumers "
                "de-duplicate on ce_id (and, for HR events, on hr_event_id; for payroll's "
                "answers, on the entry they answer)."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    header = "# Generated by `jinhui asyncapi` from the event models; do not edit by hand.\n"
    return header + yaml.safe_dump(build(), allow_unicode=True, sort_keys=False, width=100)
