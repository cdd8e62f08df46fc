"""Every field a caller sends is documented in the OpenAPI: each request body field and each
query parameter has a description or an example (path ids are named by their route)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

SERVICES = ("members", "entitlements", "disbursements", "hardship")


def _undocumented(spec: dict[str, Any]) -> list[str]:
    schemas = spec["components"]["schemas"]
    missing, bodies = [], set()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for content in op.get("requestBody", {}).get("content", {}).values():
                ref = content.get("schema", {}).get("$ref")
                if ref:
                    bodies.add(ref.rsplit("/", 1)[1])
            for p in op.get("parameters", []):
                if p["in"] == "query" and not (p.get("description") or p.get("examples")):
                    missing.append(f"{method.upper()} {path} ?{p['name']}")
    seen: set[str] = set()
    while bodies:
        name = bodies.pop()
        if name in seen:
            continue
        seen.add(name)
        for field, prop in schemas.get(name, {}).get("properties", {}).items():
            if not (prop.get("description") or prop.get("examples")):
                missing.append(f"{name}.{field}")
            for sub in [prop, *prop.get("anyOf", []), prop.get("items", {})]:
                if "$ref" in sub:
                    bodies.add(sub["$ref"].rsplit("/", 1)[1])
    return missing


@pytest.mark.parametrize("service", SERVICES)
def test_every_request_field_is_documented(service: str) -> None:
    app = importlib.import_module(f"services.{service}.entrypoints.app").app
    assert _undocumented(app.openapi()) == []
