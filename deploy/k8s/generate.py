"""Writes `deploy/k8s/base` and the overlays from what the code says: the services, their ports,
settings and secrets, and every Kafka topic with its partitions (`shared/kafka/topics.py`).

    .venv/bin/python deploy/k8s/generate.py     # then review the diff and commit it

A test renders the overlays and checks they still match the code.

Long on purpose (one file, a few long functions): the functions are the manifests written as
data, one resource after another, so a reviewer reads each beside the YAML it produces; split
into pieces they would be read out of order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from shared.kafka.topics import (
    DISBURSEMENTS_EVENTS,
    ENTITLEMENTS_EVENTS,
    HARDSHIP_EVENTS,
    HR_EMPLOYEES,
    MEMBERS_EVENTS,
    PAYROLL_BENEFITS,
    PAYROLL_RESULTS,
    READERS,
    all_topics,
    dlq,
)

ROOT = Path(__file__).resolve().parent
# The image is named once, here: the manifests say `jinhui` and kustomize's `images` sets
# the registry and tag (an overlay or `kustomize edit set image` changes the tag of a release).
IMAGE = "jinhui"
IMAGE_NAME = "registry.jinhui.local/jinhui/jinhui"
IMAGE_TAG = "0.1.0"
# Each service answers on a host of its own under this domain (Ingress, TLS by cert-manager).
DOMAIN = "jinhui.example.org"
CLUSTER_ISSUER = "jinhui-ca"
# Staff sign in with the union's OpenID Connect provider (here a Keycloak realm); the services
# hold only its public keys. Roles are realm roles; the org path is a user attribute mapped
# into the token as `union_org` (a protocol mapper of the realm's `jinhui` client).
OIDC_REALM = "https://sso.jinhui.example.org/realms/jinhui"
OIDC = {
    "JWT_JWKS_URL": f"{OIDC_REALM}/protocol/openid-connect/certs",
    "JWT_ISSUER": OIDC_REALM,
    "JWT_AUDIENCE": "jinhui",
    "JWT_ROLES_CLAIM": "realm_access.roles",
    "JWT_ORG_CLAIM": "union_org",
}
# The operators name the Services they create after their resources: the collector
# `jinhui-otel` gets `jinhui-otel-collector`, the Kafka cluster `jinhui` gets
# `jinhui-kafka-bootstrap`, the PostgreSQL cluster `jinhui-pg` gets `jinhui-pg-rw`.
COLLECTOR = "jinhui-otel"
BACKUPS = "jinhui-backups"
BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"
SERVICES = ("members", "entitlements", "disbursements", "hardship")
KAFKA = "jinhui"
PG = "jinhui-pg"
# What each service reads (its consumers) and writes (its outbox); it also writes the
# dead-letter topic of each topic it reads.
READS = {
    "members": [HR_EMPLOYEES],
    "entitlements": [MEMBERS_EVENTS, DISBURSEMENTS_EVENTS, HARDSHIP_EVENTS],
    "disbursements": [ENTITLEMENTS_EVENTS, MEMBERS_EVENTS, HARDSHIP_EVENTS, PAYROLL_RESULTS],
    "hardship": [MEMBERS_EVENTS],
}
WRITES = {
    "members": [MEMBERS_EVENTS],
    "entitlements": [ENTITLEMENTS_EVENTS],
    "disbursements": [DISBURSEMENTS_EVENTS, PAYROLL_BENEFITS],
    "hardship": [HARDSHIP_EVENTS],
}
KEYS = {  # per-service secrets beyond the database, JWT and Kafka password
    "members": {
        "ID_HASH_KEY": ("jinhui-members-keys", "id-hash-key"),
        "ID_ENCRYPTION_KEYS": ("jinhui-members-keys", "id-encryption-keys"),
    },
    "hardship": {
        "HARDSHIP_HASH_KEY": ("jinhui-hardship-keys", "hash-key"),
        "HARDSHIP_ENCRYPTION_KEYS": ("jinhui-hardship-keys", "encryption-keys"),
    },
}
# Retention: events are kept in each service's event store for ever; the topics only need to
# outlast a consumer's longest outage and a replay window. Dead letters wait for an operator.
RETENTION_MS = {"events": 14 * 86_400_000, "dlq": 30 * 86_400_000}


def labels(service: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": service, "app.kubernetes.io/component": "service"}


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def deployment(service: str) -> dict[str, Any]:
    env = [
        secret_env("DATABASE_URL", f"jinhui-{service}-db", "uri"),
        secret_env("KAFKA_SASL_PASSWORD", f"jinhui-{service}", "password"),
        *(secret_env(n, s, k) for n, (s, k) in KEYS.get(service, {}).items()),
    ]
    security = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    common = {
        "image": IMAGE,
        "envFrom": [{"configMapRef": {"name": f"jinhui-{service}"}}],
        "env": env,
        "securityContext": security,
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "kafka-ca", "mountPath": "/etc/kafka-ca", "readOnly": True},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"jinhui-{service}", "labels": labels(service)},
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": labels(service)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {
                    "labels": labels(service),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": "8000",
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "affinity": {
                        "podAntiAffinity": {
                            "preferredDuringSchedulingIgnoredDuringExecution": [
                                {
                                    "weight": 100,
                                    "podAffinityTerm": {
                                        "topologyKey": "kubernetes.io/hostname",
                                        "labelSelector": {"matchLabels": labels(service)},
                                    },
                                }
                            ]
                        }
                    },
                    # Spread over zones where the cluster has them; never left Pending for it.
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "topology.kubernetes.io/zone",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": labels(service)},
                        }
                    ],
                    # Migrations run before this version serves; Alembic takes a lock, so
                    # replicas starting together migrate once.
                    "initContainers": [
                        {
                            **common,
                            "name": "migrate",
                            "args": ["migrate", service],
                            "resources": {
                                "requests": {"cpu": "50m", "memory": "128Mi"},
                                "limits": {"memory": "256Mi"},
                            },
                        }
                    ],
                    "containers": [
                        {
                            **common,
                            "name": service,
                            "args": [service],
                            "ports": [{"name": "http", "containerPort": 8000}],
                            "livenessProbe": {
                                "httpGet": {"path": "/healthz", "port": "http"},
                                "periodSeconds": 10,
                                "failureThreshold": 3,
                            },
                            "readinessProbe": {
                                "httpGet": {"path": "/readyz", "port": "http"},
                                "periodSeconds": 5,
                                "failureThreshold": 3,
                            },
                            "startupProbe": {
                                "httpGet": {"path": "/healthz", "port": "http"},
                                "periodSeconds": 2,
                                "failureThreshold": 30,
                            },
                            "resources": {
                                "requests": {"cpu": "250m", "memory": "256Mi"},
                                "limits": {"memory": "512Mi"},
                            },
                        }
                    ],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                        {"name": "kafka-ca", "secret": {"secretName": f"{KAFKA}-cluster-ca-cert"}},
                    ],
                },
            },
        },
    }


def service_resources(service: str) -> list[dict[str, Any]]:
    name = f"jinhui-{service}"
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "labels": labels(service)},
            "data": {
                "ENVIRONMENT": "prod",
                "LOG_JSON": "true",
                "KAFKA_BOOTSTRAP_SERVERS": f"{KAFKA}-kafka-bootstrap:9093",
                "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                "KAFKA_SASL_USERNAME": name,
                "KAFKA_SSL_CAFILE": "/etc/kafka-ca/ca.crt",
                # Apache Kafka answers a waiting fetch as soon as data arrives: a long wait
                # costs no latency there (the 20 ms default suits the local broker).
                "KAFKA_FETCH_MAX_WAIT_MS": "500",
                # As the KafkaTopics below, for any topic a service finds missing.
                "KAFKA_REPLICATION_FACTOR": "3",
                "KAFKA_MIN_INSYNC_REPLICAS": "2",
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{COLLECTOR}-collector:4318",
                **DB_POOL,
                **OIDC,
            },
        },
        deployment(service),
        http_service(service),
        ingress(service),
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "labels": labels(service)},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": 2,
                "maxReplicas": MAX_REPLICAS,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 70},
                        },
                    }
                ],
            },
        },
        disruption_budget(service),
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "labels": labels(service)},
            "spec": {
                "podSelector": {"matchLabels": labels(service)},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"port": 8000, "protocol": "TCP"}]}],
                "egress": [
                    {
                        "to": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": PG}}}],
                        "ports": [{"port": 5432, "protocol": "TCP"}],
                    },
                    {
                        "to": [{"podSelector": {"matchLabels": {"strimzi.io/cluster": KAFKA}}}],
                        "ports": [{"port": 9093, "protocol": "TCP"}],
                    },
                    {
                        "to": [
                            {
                                "podSelector": {
                                    "matchLabels": {
                                        "app.kubernetes.io/name": f"{COLLECTOR}-collector"
                                    }
                                }
                            }
                        ],
                        "ports": [{"port": 4318, "protocol": "TCP"}],
                    },
                    *DNS_AND_PROVIDER,
                ],
            },
        },
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": {"name": name, "labels": labels(service)},
            "spec": {
                "selector": {"matchLabels": labels(service)},
                "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
            },
        },
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Database",
            "metadata": {"name": f"jinhui-{service}"},
            "spec": {"cluster": {"name": PG}, "name": f"jinhui_{service}", "owner": service},
        },
    ]


CONSOLE = "console"


def console_resources() -> list[dict[str, Any]]:
    """The web console (工作台): no database and no broker of its own; it calls the four
    services inside the cluster with the signed-in person's token, and signs people in with
    the same provider (authorization code with PKCE, client `jinhui-console`)."""
    name = f"jinhui-{CONSOLE}"
    pod = deployment(CONSOLE)
    spec = pod["spec"]["template"]["spec"]
    del spec["initContainers"]  # nothing to migrate
    spec["volumes"] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    container = spec["containers"][0]
    container["env"] = [
        secret_env("CONSOLE_SESSION_SECRET", f"{name}-session", "secret"),
        secret_env("OIDC_CLIENT_SECRET", f"{name}-session", "oidc-client-secret"),
    ]
    container["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
    container["readinessProbe"]["httpGet"]["path"] = "/healthz"  # ready when it answers
    container["resources"] = {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "256Mi"},
    }
    del pod["spec"]["template"]["metadata"]["annotations"]  # no /metrics of its own
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": labels(CONSOLE)},
        "spec": {
            "podSelector": {"matchLabels": labels(CONSOLE)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"ports": [{"port": 8000, "protocol": "TCP"}]}],
            "egress": [
                *(
                    {
                        "to": [{"podSelector": {"matchLabels": labels(s)}}],
                        "ports": [{"port": 8000, "protocol": "TCP"}],
                    }
                    for s in SERVICES
                ),
                *DNS_AND_PROVIDER,
            ],
        },
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "labels": labels(CONSOLE)},
            "data": {
                "ENVIRONMENT": "prod",
                "LOG_JSON": "true",
                "CONSOLE_URL": f"https://{CONSOLE}.{DOMAIN}",
                **{f"{s.upper()}_URL": f"http://jinhui-{s}" for s in SERVICES},
                "OIDC_ISSUER_URL": OIDC_REALM,
                "OIDC_CLIENT_ID": "jinhui-console",
                **OIDC,
            },
        },
        pod,
        http_service(CONSOLE),
        ingress(CONSOLE),
        disruption_budget(CONSOLE),
        policy,
    ]


# Every pod resolves names, and reads the identity provider over HTTPS (its keys; for the
# console also its discovery document and token endpoint).
DNS_AND_PROVIDER: list[dict[str, Any]] = [
    {
        "to": [{"namespaceSelector": {}}],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    },
    {"ports": [{"port": 443, "protocol": "TCP"}]},
]


def http_service(app: str) -> dict[str, Any]:
    name = f"jinhui-{app}"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels(app)},
        "spec": {
            "selector": labels(app),
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


def disruption_budget(app: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": f"jinhui-{app}", "labels": labels(app)},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": labels(app)}},
    }


def ingress(service: str) -> dict[str, Any]:
    """`https://<service>.<domain>/`, with a certificate cert-manager issues and renews."""
    name, host = f"jinhui-{service}", f"{service}.{DOMAIN}"
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": name,
            "labels": labels(service),
            "annotations": {"cert-manager.io/cluster-issuer": CLUSTER_ISSUER},
        },
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": [host], "secretName": f"{name}-tls"}],
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": name, "port": {"name": "http"}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


def kafka_resources() -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = [
        {
            "apiVersion": "kafka.strimzi.io/v1beta2",
            "kind": "KafkaNodePool",
            "metadata": {"name": "dual-role", "labels": {"strimzi.io/cluster": KAFKA}},
            "spec": {
                "replicas": 3,
                "roles": ["controller", "broker"],
                "storage": {
                    "type": "jbod",
                    "volumes": [
                        {
                            "id": 0,
                            "type": "persistent-claim",
                            "size": "100Gi",
                            "deleteClaim": False,
                            "kraftMetadata": "shared",
                        }
                    ],
                },
            },
        },
        {
            "apiVersion": "kafka.strimzi.io/v1beta2",
            "kind": "Kafka",
            "metadata": {
                "name": KAFKA,
                "annotations": {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"},
            },
            "spec": {
                "kafka": {
                    "listeners": [
                        {
                            "name": "tls",
                            "port": 9093,
                            "type": "internal",
                            "tls": True,
                            "authentication": {"type": "scram-sha-512"},
                        }
                    ],
                    "authorization": {"type": "simple"},
                    "config": {
                        "default.replication.factor": 3,
                        "min.insync.replicas": 2,
                        "offsets.topic.replication.factor": 3,
                        "transaction.state.log.replication.factor": 3,
                        "transaction.state.log.min.isr": 2,
                        "auto.create.topics.enable": False,
                    },
                },
                "entityOperator": {"topicOperator": {}, "userOperator": {}},
            },
        },
    ]
    for topic in all_topics():
        kind = "dlq" if topic.name.endswith(".dlq") else "events"
        resources.append(
            {
                "apiVersion": "kafka.strimzi.io/v1beta2",
                "kind": "KafkaTopic",
                "metadata": {
                    "name": topic.name.replace(".", "-"),
                    "labels": {"strimzi.io/cluster": KAFKA},
                },
                "spec": {
                    "topicName": topic.name,
                    "partitions": topic.partitions,
                    "replicas": 3,
                    "config": {
                        "retention.ms": RETENTION_MS[kind],
                        "min.insync.replicas": 2,
                        "cleanup.policy": "delete",
                    },
                },
            }
        )
    for service in SERVICES:
        user = kafka_user(
            f"jinhui-{service}", WRITES[service], READS[service], group_prefix=f"{service}."
        )
        user["spec"]["authorization"]["acls"] += readers_acls(WRITES[service])
        resources.append(user)
    resources.append(kafka_user("hr-system", [HR_EMPLOYEES], [], group_prefix=None))
    resources.append(
        kafka_user("payroll", [PAYROLL_RESULTS], [PAYROLL_BENEFITS], group_prefix="payroll.")
    )
    return resources


def kafka_user(
    name: str, writes: list[str], reads: list[str], group_prefix: str | None
) -> dict[str, Any]:
    def acl(topic: str, *ops: str) -> dict[str, Any]:
        return {
            "resource": {"type": "topic", "name": topic, "patternType": "literal"},
            "operations": list(ops),
        }

    acls = [acl(t, "Write", "Describe") for t in writes]
    acls += [acl(t, "Read", "Describe") for t in reads]
    acls += [acl(dlq(t), "Write", "Describe") for t in reads]
    if group_prefix:
        acls.append(
            {
                "resource": {"type": "group", "name": group_prefix, "patternType": "prefix"},
                "operations": ["Read"],
            }
        )
    return {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaUser",
        "metadata": {"name": name, "labels": {"strimzi.io/cluster": KAFKA}},
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": acls},
        },
    }


def readers_acls(writes: list[str]) -> list[dict[str, Any]]:
    """A service sees how far the readers of what it writes have read (their committed offsets,
    `shared.kafka.read_through`): after an emptied broker it re-sends only what they had not."""

    def group(name: str, pattern: str) -> dict[str, Any]:
        return {
            "resource": {"type": "group", "name": name, "patternType": pattern},
            "operations": ["Describe"],
        }

    acls = [group(g, "literal") for t in writes for g in READERS.get(t, ())]
    if PAYROLL_BENEFITS in writes:
        acls.append(group("payroll.", "prefix"))
    return acls


# A topic's 8 partitions: more replicas of a service than that only wait.
MAX_REPLICAS = 8
# A pod's pool (one core a pod: more replicas, not more connections, for more load). Every pod
# also holds up to two for the readiness probe and one to LISTEN.
DB_POOL = {"DB_POOL_SIZE": "8", "DB_POOL_OVERFLOW": "2"}
POD_CONNECTIONS = sum(int(n) for n in DB_POOL.values()) + 3
# Every service at its most replicas and a rollout's surge pod, with room for migration Jobs,
# backups and an operator: past `max_connections` a new connection is refused ("too many
# clients already"), which a bench run of four replicas a service found at PostgreSQL's 100.
MAX_CONNECTIONS = len(SERVICES) * (MAX_REPLICAS + 1) * POD_CONNECTIONS + 50


def postgres_resources() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Cluster",
            "metadata": {"name": PG},
            "spec": {
                "instances": 3,
                "imageName": "ghcr.io/cloudnative-pg/postgresql:18",
                "storage": {"size": "50Gi"},
                "postgresql": {"parameters": {"max_connections": str(MAX_CONNECTIONS)}},
                "managed": {
                    "roles": [
                        {
                            "name": s,
                            "ensure": "present",
                            "login": True,
                            "passwordSecret": {"name": f"jinhui-{s}-db-owner"},
                        }
                        for s in SERVICES
                    ]
                },
                "bootstrap": {"initdb": {"database": "jinhui", "owner": "jinhui"}},
                # Base backups and WAL archiving through the Barman Cloud plugin (the in-tree
                # `barmanObjectStore` is deprecated from CloudNativePG 1.26).
                "plugins": [
                    {
                        "name": BARMAN_PLUGIN,
                        "isWALArchiver": True,
                        "parameters": {"barmanObjectName": BACKUPS},
                    }
                ],
                "monitoring": {"enablePodMonitor": True},
            },
        },
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "ScheduledBackup",
            "metadata": {"name": f"{PG}-daily"},
            "spec": {
                "schedule": "0 0 2 * * *",
                "cluster": {"name": PG},
                "backupOwnerReference": "self",
                "method": "plugin",
                "pluginConfiguration": {"name": BARMAN_PLUGIN},
            },
        },
        {
            "apiVersion": "barmancloud.cnpg.io/v1",
            "kind": "ObjectStore",
            "metadata": {"name": BACKUPS},
            "spec": {
                "retentionPolicy": "30d",
                "configuration": {
                    "destinationPath": "s3://jinhui-backups/pg",
                    "s3Credentials": {
                        "accessKeyId": {"name": "jinhui-backup-s3", "key": "access-key-id"},
                        "secretAccessKey": {"name": "jinhui-backup-s3", "key": "secret-access-key"},
                    },
                    "wal": {"compression": "gzip"},
                    "data": {"compression": "gzip"},
                },
            },
        },
    ]


def otel_resources() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "opentelemetry.io/v1beta1",
            "kind": "OpenTelemetryCollector",
            "metadata": {"name": COLLECTOR},
            "spec": {
                "mode": "deployment",
                "replicas": 2,
                "config": {
                    "receivers": {
                        "otlp": {
                            "protocols": {
                                "http": {"endpoint": "0.0.0.0:4318"},
                                "grpc": {"endpoint": "0.0.0.0:4317"},
                            }
                        }
                    },
                    "processors": {
                        "batch": {},
                        "memory_limiter": {
                            "check_interval": "1s",
                            "limit_percentage": 80,
                            "spike_limit_percentage": 20,
                        },
                    },
                    "exporters": {
                        "otlp/tempo": {
                            "endpoint": "tempo.observability:4317",
                            "tls": {"insecure": True},
                        }
                    },
                    "service": {
                        "pipelines": {
                            "traces": {
                                "receivers": ["otlp"],
                                "processors": ["memory_limiter", "batch"],
                                "exporters": ["otlp/tempo"],
                            }
                        }
                    },
                },
            },
        }
    ]


def write(path: Path, documents: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Generated by deploy/k8s/generate.py from the code; edit that, not this.\n"
    path.write_text(
        header + yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )


def kustomization(resources: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
        **extra,
    }


def patch(kind: str, name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
    return {"target": {"kind": kind, "name": name}, "patch": yaml.safe_dump(ops, sort_keys=False)}


def namespace(name: str) -> dict[str, Any]:
    """The services run under the restricted Pod Security Standard."""
    enforce = {"pod-security.kubernetes.io/enforce": "restricted"}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": enforce}}


def for_each_service(kind: str, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [patch(kind, f"jinhui-{s}", ops) for s in SERVICES]


def replace(path: str, value: Any) -> dict[str, Any]:
    return {"op": "replace", "path": path, "value": value}


def dev_patches() -> list[dict[str, Any]]:
    """One replica of everything, no backups, Kafka without replication."""
    kafka_config = {
        "default.replication.factor": 1,
        "min.insync.replicas": 1,
        "offsets.topic.replication.factor": 1,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "auto.create.topics.enable": False,
    }
    return [
        *for_each_service("Deployment", [replace("/spec/replicas", 1)]),
        *for_each_service(
            "HorizontalPodAutoscaler",
            [replace("/spec/minReplicas", 1), replace("/spec/maxReplicas", 2)],
        ),
        *for_each_service("PodDisruptionBudget", [replace("/spec/minAvailable", 0)]),
        patch(
            "Cluster",
            PG,
            [replace("/spec/instances", 1), {"op": "remove", "path": "/spec/plugins"}],
        ),
        patch("ScheduledBackup", f"{PG}-daily", [replace("/spec/suspend", True)]),
        patch("KafkaNodePool", "dual-role", [replace("/spec/replicas", 1)]),
        patch("Kafka", KAFKA, [replace("/spec/kafka/config", kafka_config)]),
        patch(
            "KafkaTopic",
            ".*",
            [replace("/spec/replicas", 1), replace("/spec/config/min.insync.replicas", 1)],
        ),
        *for_each_service(
            "ConfigMap",
            [
                replace("/data/ENVIRONMENT", "staging"),
                replace("/data/KAFKA_REPLICATION_FACTOR", "1"),
                replace("/data/KAFKA_MIN_INSYNC_REPLICAS", "1"),
            ],
        ),
        patch(
            "ConfigMap",
            f"jinhui-{CONSOLE}",
            [
                replace("/data/ENVIRONMENT", "staging"),
                replace("/data/CONSOLE_URL", f"https://{CONSOLE}.dev.{DOMAIN}"),
            ],
        ),
        patch("Deployment", f"jinhui-{CONSOLE}", [replace("/spec/replicas", 1)]),
        patch("PodDisruptionBudget", f"jinhui-{CONSOLE}", [replace("/spec/minAvailable", 0)]),
        *(
            patch("Ingress", f"jinhui-{s}", [replace("/spec/rules/0/host", f"{s}.dev.{DOMAIN}")])
            for s in (*SERVICES, CONSOLE)
        ),
        *(
            patch("Ingress", f"jinhui-{s}", [replace("/spec/tls/0/hosts/0", f"{s}.dev.{DOMAIN}")])
            for s in (*SERVICES, CONSOLE)
        ),
    ]


def prod_patches() -> list[dict[str, Any]]:
    """Three replicas of each service. Anti-affinity stays preferred (from the base) and the
    rollout surges by one pod: on a three-node cluster the surge pod shares a node for the
    minutes of a rollout instead of waiting, Pending, for a fourth."""
    resources = {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}}
    return [
        *for_each_service(
            "Deployment",
            [
                replace("/spec/replicas", 3),
                replace("/spec/template/spec/containers/0/resources", resources),
            ],
        ),
        *for_each_service("HorizontalPodAutoscaler", [replace("/spec/minReplicas", 3)]),
    ]


def write_overlay(name: str, namespace_name: str, patches: list[dict[str, Any]]) -> None:
    folder = ROOT / "overlays" / name
    write(folder / "namespace.yaml", [namespace(namespace_name)])
    (folder / "kustomization.yaml").write_text(
        yaml.safe_dump(
            kustomization(
                ["namespace.yaml", "../../base"], namespace=namespace_name, patches=patches
            ),
            sort_keys=False,
            width=100,
        )
    )


def main() -> None:
    base = ROOT / "base"
    files = []
    for service in SERVICES:
        write(base / f"{service}.yaml", service_resources(service))
        files.append(f"{service}.yaml")
    for name, docs in (
        (f"{CONSOLE}.yaml", console_resources()),
        ("kafka.yaml", kafka_resources()),
        ("postgres.yaml", postgres_resources()),
        ("otel.yaml", otel_resources()),
    ):
        write(base / name, docs)
        files.append(name)
    images = [{"name": IMAGE, "newName": IMAGE_NAME, "newTag": IMAGE_TAG}]
    (base / "kustomization.yaml").write_text(
        yaml.safe_dump(
            kustomization(
                files,
                labels=[{"pairs": {"app.kubernetes.io/part-of": "jinhui"}}],
                images=images,
            ),
            sort_keys=False,
        )
    )
    write_overlay("dev", "jinhui-dev", dev_patches())
    write_overlay("prod", "jinhui", prod_patches())


if __name__ == "__main__":
    main()
