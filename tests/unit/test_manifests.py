"""The Kubernetes manifests reflect the code, and their validation catches mistakes."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.kafka.topics import all_topics

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("deploy_validate", REPO / "deploy" / "validate.py")
assert spec and spec.loader
validate_module = importlib.util.module_from_spec(spec)
sys.modules["deploy_validate"] = validate_module
spec.loader.exec_module(validate_module)


@pytest.fixture(scope="module", params=["dev", "prod"])
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return validate_module.render(validate_module.OVERLAYS / request.param)  # type: ignore[no-any-return]


def test_every_resource_of_each_overlay_is_valid(rendered: list[dict[str, Any]]) -> None:
    assert [p for p in map(validate_module.validate, rendered) if p] == []


def test_a_kafka_topic_for_every_topic_the_code_uses(rendered: list[dict[str, Any]]) -> None:
    topics = {
        d["spec"]["topicName"]: d["spec"]["partitions"]
        for d in rendered
        if d["kind"] == "KafkaTopic"
    }
    assert topics == {t.name: t.partitions for t in all_topics()}


def test_each_service_runs_migrations_first_and_is_probed(rendered: list[dict[str, Any]]) -> None:
    deployments = {d["metadata"]["name"]: d for d in rendered if d["kind"] == "Deployment"}
    assert set(deployments) == {
        f"jinhui-{s}" for s in ("members", "entitlements", "disbursements", "hardship")
    }
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        service = name.removeprefix("jinhui-")
        assert pod["initContainers"][0]["args"] == ["migrate", service]
        container = pod["containers"][0]
        assert container["args"] == [service]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert all("value" not in e for e in container["env"]), "secret values are references"


def test_validation_rejects_what_kubernetes_or_an_operator_would(
    rendered: list[dict[str, Any]],
) -> None:
    deployment = copy.deepcopy(next(d for d in rendered if d["kind"] == "Deployment"))
    deployment["spec"]["replicaz"] = 2
    assert validate_module.validate(deployment)
    topic = copy.deepcopy(next(d for d in rendered if d["kind"] == "KafkaTopic"))
    topic["spec"]["partitions"] = "eight"
    assert validate_module.validate(topic)


def test_the_committed_manifests_are_what_the_generator_writes() -> None:
    import yaml

    spec = importlib.util.spec_from_file_location("generate", REPO / "deploy/k8s/generate.py")
    assert spec and spec.loader
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    base = REPO / "deploy/k8s/base"
    expected = {f"{s}.yaml": generate.service_resources(s) for s in generate.SERVICES} | {
        "kafka.yaml": generate.kafka_resources(),
        "postgres.yaml": generate.postgres_resources(),
        "otel.yaml": generate.otel_resources(),
    }
    for name, documents in expected.items():
        committed = list(yaml.safe_load_all((base / name).read_text(encoding="utf-8")))
        assert committed == documents, f"{name} is stale: run deploy/k8s/generate.py"
