"""The policy file is the whole truth about the caps: every key it may hold is read by code,
and no clause id is written in code."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from services.entitlements.domain import policy

ROOT = Path(__file__).resolve().parents[2]
MODELS: list[type[BaseModel]] = [
    policy.BenefitRule,
    policy.UnionRule,
    policy.Trip,
    policy.Books,
    policy.PolicyVersion,
]


def _code() -> str:
    return "\n".join(
        p.read_text(encoding="utf-8")
        for p in sorted((ROOT / "services").rglob("*.py"))
        if "migrations" not in p.parts
    )


def test_every_policy_key_is_read_by_code() -> None:
    code = _code()  # a key is declared as `name: type`; it is read as `.name`
    unread = [
        f"{model.__name__}.{name}"
        for model in MODELS
        for name in model.model_fields
        if not re.search(rf"\.{name}\b", code)
    ]
    assert unread == []


def test_no_clause_id_is_written_in_code() -> None:
    clause = re.compile(r"[\"'](\d+\.[a-z][a-z-]*)[\"']")
    found = {
        f"{p.relative_to(ROOT)}: {m.group(1)}"
        for p in (ROOT / "services").rglob("*.py")
        for m in clause.finditer(p.read_text(encoding="utf-8"))
    }
    assert found == set()


def test_one_benefit_vocabulary() -> None:
    code = _code()
    assert "BenefitName" not in code
    assert len(re.findall(r"^class Benefit\(", code, flags=re.MULTILINE)) == 1
