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


def test_a_topic_a_service_creates_is_replicated_as_the_clusters_own(
    rendered: list[dict[str, Any]],
) -> None:
    """`ensure_topics` once created every topic with one copy, whatever the cluster kept."""
    topics = {
        (d["spec"]["replicas"], d["spec"]["config"]["min.insync.replicas"])
        for d in rendered
        if d["kind"] == "KafkaTopic"
    }
    settings = {
        (int(d["data"]["KAFKA_REPLICATION_FACTOR"]), int(d["data"]["KAFKA_MIN_INSYNC_REPLICAS"]))
        for d in rendered
        if d["kind"] == "ConfigMap" and "KAFKA_REPLICATION_FACTOR" in d["data"]
    }
    assert len(topics) == 1 and settings == topics


def test_each_service_runs_migrations_first_and_is_probed(rendered: list[dict[str, Any]]) -> None:
    deployments = {d["metadata"]["name"]: d for d in rendered if d["kind"] == "Deployment"}
    console = deployments.pop("jinhui-console")
    assert set(deployments) == {
        f"jinhui-{s}" for s in ("members", "entitlements", "disbursements", "hardship")
    }
    pod = console["spec"]["template"]["spec"]
    assert "initContainers" not in pod and pod["containers"][0]["args"] == ["console"]
    assert all("value" not in e for e in pod["containers"][0]["env"])  # the session secret
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
        "console.yaml": generate.console_resources(),
        "kafka.yaml": generate.kafka_resources(),
        "postgres.yaml": generate.postgres_resources(),
        "otel.yaml": generate.otel_resources(),
    }
    for name, documents in expected.items():
        committed = list(yaml.safe_load_all((base / name).read_text(encoding="utf-8")))
        assert committed == documents, f"{name} is stale: run deploy/k8s/generate.py"


def _services_operators_create(rendered: list[dict[str, Any]]) -> set[str]:
    """The Services the operators make from their resources (Strimzi, CloudNativePG, the
    OpenTelemetry operator), named as their sources name them."""
    made: set[str] = set()
    for d in rendered:
        name = d["metadata"]["name"]
        match d["kind"]:
            case "Kafka":
                made |= {f"{name}-kafka-bootstrap", f"{name}-kafka-brokers"}
            case "Cluster":
                made |= {f"{name}-rw", f"{name}-ro", f"{name}-r"}
            case "OpenTelemetryCollector":
                made |= {f"{name}-collector", f"{name}-collector-headless"}
    return made


def test_every_host_a_setting_names_is_a_service_that_exists(
    rendered: list[dict[str, Any]],
) -> None:
    from urllib.parse import urlsplit

    services = {d["metadata"]["name"] for d in rendered if d["kind"] == "Service"}
    services |= _services_operators_create(rendered)
    named = set()
    for config in (d for d in rendered if d["kind"] == "ConfigMap"):
        for key, value in config["data"].items():
            host = urlsplit(value).hostname or ""
            if key.endswith("_ENDPOINT") or (key.endswith("_URL") and "." not in host):
                named.add(host)  # (a host with a dot is outside the cluster: the provider)
            elif key.endswith("_SERVERS"):
                named |= {server.rpartition(":")[0] for server in value.split(",")}
    assert named and named <= services, named - services
    collector = next(d for d in rendered if d["kind"] == "OpenTelemetryCollector")
    policies = [d for d in rendered if d["kind"] == "NetworkPolicy"]
    traced = [p for p in policies if p["metadata"]["name"] != "jinhui-console"]
    for policy in traced:  # the egress rule selects the pods the operator labels
        selectors = [
            peer["podSelector"]["matchLabels"]
            for rule in policy["spec"]["egress"]
            for peer in rule.get("to", [])
            if "podSelector" in peer
        ]
        expected = {"app.kubernetes.io/name": f"{collector['metadata']['name']}-collector"}
        assert any(s.items() >= expected.items() for s in selectors)


def test_rollouts_fit_a_three_node_cluster(rendered: list[dict[str, Any]]) -> None:
    """Nothing requires a node of its own: a surge pod, or an HPA's eighth replica, is placed
    beside another instead of waiting Pending for a node the cluster does not have."""
    for deployment in (d for d in rendered if d["kind"] == "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        anti = pod.get("affinity", {}).get("podAntiAffinity", {})
        assert "requiredDuringSchedulingIgnoredDuringExecution" not in anti
        spreads = pod.get("topologySpreadConstraints", [])
        assert all(s["whenUnsatisfiable"] == "ScheduleAnyway" for s in spreads)
        rolling = deployment["spec"]["strategy"]["rollingUpdate"]
        assert rolling["maxSurge"] >= 1 or rolling["maxUnavailable"] >= 1


def test_each_service_is_reachable_over_tls_in_its_namespace(
    rendered: list[dict[str, Any]],
) -> None:
    namespaces = [d["metadata"]["name"] for d in rendered if d["kind"] == "Namespace"]
    assert len(namespaces) == 1
    placed = {d["metadata"].get("namespace") for d in rendered if d["kind"] != "Namespace"}
    assert placed == {namespaces[0]}
    services = {d["metadata"]["name"]: d for d in rendered if d["kind"] == "Service"}
    ingresses = [d for d in rendered if d["kind"] == "Ingress"]
    assert {i["metadata"]["name"] for i in ingresses} == set(services)
    for ingress in ingresses:
        assert "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]
        (rule,) = ingress["spec"]["rules"]
        assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]
        backend = rule["http"]["paths"][0]["backend"]["service"]
        ports = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
        assert backend["port"]["name"] in ports


def test_the_image_is_named_once(rendered: list[dict[str, Any]]) -> None:
    images = {
        c["image"]
        for d in rendered
        if d["kind"] == "Deployment"
        for c in [
            *d["spec"]["template"]["spec"]["containers"],
            *d["spec"]["template"]["spec"].get("initContainers", []),
        ]
    }
    assert len(images) == 1
    (image,) = images
    assert "/" in image and ":" in image.rpartition("/")[2]  # a registry path and a tag


def test_backups_go_through_the_barman_cloud_plugin(rendered: list[dict[str, Any]]) -> None:
    (cluster,) = [d for d in rendered if d["kind"] == "Cluster"]
    assert "barmanObjectStore" not in cluster["spec"].get("backup", {})
    stores = {d["metadata"]["name"] for d in rendered if d["kind"] == "ObjectStore"}
    for plugin in cluster["spec"].get("plugins", []):
        assert plugin["parameters"]["barmanObjectName"] in stores
    (scheduled,) = [d for d in rendered if d["kind"] == "ScheduledBackup"]
    assert scheduled["spec"]["method"] == "plugin"


def test_the_console_starts_on_what_its_manifest_gives_it(rendered: list[dict[str, Any]]) -> None:
    """The settings refuse to start outside dev and test on a local issuer or plain HTTP."""
    import secrets

    from console.settings import ConsoleSettings

    (config,) = [
        d
        for d in rendered
        if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "jinhui-console"
    ]
    given = {k.lower(): v for k, v in config["data"].items()}
    settings = ConsoleSettings(**given, console_session_secret=secrets.token_urlsafe(48))
    assert settings.environment in ("staging", "prod") and not settings.local_issuer
    assert settings.service_url("hardship") == "http://jinhui-hardship"
    with pytest.raises(ValueError, match="CONSOLE_URL"):
        ConsoleSettings(
            **{**given, "console_url": "http://console"},
            console_session_secret=secrets.token_urlsafe(48),
        )


def test_postgres_takes_every_pod_at_the_most_replicas(rendered: list[dict[str, Any]]) -> None:
    """Each pod holds its pool (size and overflow), two for the readiness probe and one to
    LISTEN; at every HPA's maximum, and a rollout's surge pod, the cluster must take them all."""
    from shared.settings import ServiceSettings

    defaults = ServiceSettings()
    cluster = next(d for d in rendered if d["kind"] == "Cluster")
    most = int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
    needed = 0
    for hpa in (d for d in rendered if d["kind"] == "HorizontalPodAutoscaler"):
        name = hpa["spec"]["scaleTargetRef"]["name"]
        config = next(
            d["data"]
            for d in rendered
            if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name
        )
        deployment = next(
            d for d in rendered if d["kind"] == "Deployment" and d["metadata"]["name"] == name
        )
        pool = int(config.get("DB_POOL_SIZE", defaults.db_pool_size))
        overflow = int(config.get("DB_POOL_OVERFLOW", defaults.db_pool_overflow))
        surge = deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
        needed += (hpa["spec"]["maxReplicas"] + surge) * (pool + overflow + 3)
    assert needed + 20 <= most, (needed, most)
