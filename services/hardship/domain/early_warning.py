"""Early-warning rules: which life events put a member not on the register on the watch list,
and when to look again. Data (`reference/early-warning.yaml`), versioned like the criteria."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "early-warning.yaml"


class WatchRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    why: str
    look_again_within_days: int = Field(ge=1, le=366)
    raised_by: str | None = Field(default=None, description="The member event type raising it")
    only_reasons: list[str] = Field(default_factory=list)
    requires_earlier_file: bool = False
    emergencies: int | None = Field(default=None, ge=2)
    within_days: int | None = Field(default=None, ge=1)
    on_exit: bool = False


class WatchRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    effective_from: date
    source: str
    rules: dict[str, WatchRule]

    def for_event(self, event_type: str) -> dict[str, WatchRule]:
        return {name: r for name, r in self.rules.items() if r.raised_by == event_type}

    def named(self, predicate: str) -> dict[str, WatchRule]:
        return {
            name: r
            for name, r in self.rules.items()
            if (predicate == "exit" and r.on_exit) or (predicate == "emergency" and r.emergencies)
        }


class WatchBook:
    def __init__(self, versions: list[WatchRules]) -> None:
        self.versions = sorted(versions, key=lambda v: v.effective_from)

    @classmethod
    def bundled(cls) -> WatchBook:
        data = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
        return cls([WatchRules.model_validate(v) for v in data["versions"]])

    def in_force(self, on: date) -> WatchRules | None:
        found = [v for v in self.versions if v.effective_from <= on]
        return found[-1] if found else None
