"""Roles as people read them, and what each role's console opens with."""

from __future__ import annotations

ROLE_TITLES = {
    "finance_officer": "财务人员 finance officer",
    "caseworker": "困难职工帮扶工作人员 caseworker",
    "reviewer": "复核人员 reviewer",
    "auditor": "审计人员 auditor",
    "admin": "管理员 admin",
}
