"""Accounting subjects as data: the expense subject each benefit is booked to, versioned by
the day it takes effect (`reference/accounting-subjects.yaml`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from services.entitlements.contracts import Benefit

SUBJECTS_FILE = Path(__file__).resolve().parent.parent / "reference" / "accounting-subjects.yaml"


@dataclass(frozen=True)
class Subject:
    code: str
    name: str
    version: str


@dataclass(frozen=True)
class SubjectVersion:
    version: str
    effective_from: date
    source: str
    subjects: dict[str, Subject]


class AccountingSubjects:
    def __init__(self, versions: list[SubjectVersion]) -> None:
        if not versions:
            raise ValueError("no accounting-subject version")
        self.versions = sorted(versions, key=lambda v: v.effective_from)
        for version in self.versions:
            missing = {b.value for b in Benefit} - set(version.subjects)
            if missing:
                raise ValueError(f"{version.version} maps no subject for {sorted(missing)}")

    @classmethod
    def load(cls, data: dict[str, Any]) -> AccountingSubjects:
        return cls(
            [
                SubjectVersion(
                    version=str(v["version"]),
                    effective_from=v["effective_from"],
                    source=str(v["source"]),
                    subjects={
                        benefit: Subject(str(s["code"]), str(s["name"]), str(v["version"]))
                        for benefit, s in v["subjects"].items()
                    },
                )
                for v in data["versions"]
            ]
        )

    @classmethod
    def bundled(cls) -> AccountingSubjects:
        return cls.load(yaml.safe_load(SUBJECTS_FILE.read_text(encoding="utf-8")))

    def subject(self, benefit: str, on: date) -> Subject | None:
        """The subject in force on `on`; None before the first version."""
        in_force = [v for v in self.versions if v.effective_from <= on]
        return in_force[-1].subjects.get(benefit) if in_force else None
