"""Domain events: frozen pydantic models with a stable type name and a schema version.

The type name, not the Python class path, is what is stored and sent, so classes may move
between modules without breaking the event store or the consumers of a topic.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class UnknownEventType(LookupError):
    pass


_REGISTRY: dict[str, type[DomainEvent]] = {}


class DomainEvent(BaseModel):
    """Base of every event. Subclasses set `event_type` (e.g. `jinhui.members.MemberRegistered`),
    `schema_version` and, when the event leaves the service, the `topic` it is published on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("event_type")
        if not name:
            return
        existing = _REGISTRY.get(name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise TypeError(f"event type {name} registered twice ({existing} and {cls})")
        _REGISTRY[name] = cls

    def to_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def upcast(cls, data: dict[str, Any], from_version: int) -> dict[str, Any]:
        """The data of an older schema version, in the current version's shape. A class whose
        `schema_version` grows overrides this for every older version it still accepts."""
        return data


def event_class(event_type: str) -> type[DomainEvent]:
    try:
        return _REGISTRY[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def load_event(event_type: str, data: dict[str, Any] | str) -> DomainEvent:
    """A stored event from its data, or from the data's JSON text: validating the text
    straight into the model skips building the dicts first (stores read `data::text`)."""
    cls = event_class(event_type)
    if isinstance(data, str):
        return cls.model_validate_json(data)
    return cls.model_validate(data)


def registered_event_types() -> dict[str, type[DomainEvent]]:
    return dict(_REGISTRY)
