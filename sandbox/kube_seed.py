"""Manifests for a plausible service, and the initial cluster content built from the catalog."""

import hashlib
import logging
import time

from .kube_cluster import Cluster

logger = logging.getLogger(__name__)

DEFAULT_STEPS = [
    {"setWeight": 5},
    {"pause": {}},
    {"setWeight": 25},
    {"pause": {"duration": "30s"}},
    {"setWeight": 50},
    {"pause": {"duration": "30s"}},
    {"setWeight": 100},
]


def _pod_template(name: str, image: str, cpu: str, memory: str) -> dict:
    return {
        "metadata": {"labels": {"app.kubernetes.io/name": name}},
        "spec": {
            "containers": [
                {
                    "name": name,
                    "image": image,
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "env": [
                        {"name": "LOG_LEVEL", "value": "info"},
                        {"name": "SERVICE_NAME", "value": name},
                        {
                            "name": "DATABASE_PASSWORD",
                            "valueFrom": {
                                "secretKeyRef": {"name": f"{name}-credentials", "key": "password"}
                            },
                        },
                        {
                            "name": "FEATURE_FLAGS",
                            "valueFrom": {
                                "configMapKeyRef": {"name": f"{name}-runtime", "key": "features"}
                            },
                        },
                    ],
                    "envFrom": [{"configMapRef": {"name": f"{name}-runtime"}}],
                    # config.json is read as a file, which the kubelet refreshes in place.
                    "volumeMounts": [
                        {"name": "runtime", "mountPath": "/etc/runtime", "readOnly": True}
                    ],
                    "resources": {
                        "requests": {"cpu": cpu, "memory": memory},
                        "limits": {"cpu": cpu if cpu.endswith("m") else cpu, "memory": memory},
                    },
                    "readinessProbe": {
                        "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                        "periodSeconds": 10,
                        "timeoutSeconds": 1,
                        "successThreshold": 1,
                        "failureThreshold": 3,
                    },
                }
            ],
            "volumes": [
                {
                    "name": "runtime",
                    "configMap": {
                        "name": f"{name}-runtime",
                        "items": [{"key": "config.json", "path": "config.json"}],
                    },
                }
            ],
        },
    }


def deployment_manifest(
    name: str, *, image: str, replicas: int = 2, cpu: str = "250m", memory: str = "256Mi"
) -> dict:
    return {
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": _pod_template(name, image, cpu, memory),
        },
    }


def rollout_manifest(
    name: str, *, image: str, replicas: int = 3, steps: list[dict] | None = None
) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": name}},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": _pod_template(name, image, "250m", "256Mi"),
            "strategy": {
                "canary": {
                    "canaryService": f"{name}-canary",
                    "stableService": f"{name}-stable",
                    "steps": DEFAULT_STEPS if steps is None else steps,
                }
            },
        },
    }


def configmap_manifest(name: str, data: dict[str, str]) -> dict:
    return {"metadata": {"name": name, "labels": {"app.kubernetes.io/name": name}}, "data": data}


def secret_manifest(name: str, keys: list[str]) -> dict:
    # The values are placeholders: Switchyard names Secrets and never reads them.
    return {
        "metadata": {"name": name},
        "type": "Opaque",
        "stringData": {key: "sandbox-not-a-secret" for key in keys},
    }


def hpa_manifest(
    name: str, target: str, *, minimum: int, maximum: int, cpu: int = 70, kind: str = "Deployment"
) -> dict:
    api_version = "argoproj.io/v1alpha1" if kind == "Rollout" else "apps/v1"
    return {
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": api_version, "kind": kind, "name": target},
            "minReplicas": minimum,
            "maxReplicas": maximum,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": cpu},
                    },
                }
            ],
        },
    }


def service_add(
    cluster: Cluster,
    namespace: str,
    name: str,
    *,
    component: str = "",
    version: str = "1.0.0",
    replicas: int = 2,
    hpa: tuple[int, int, int] | None = None,
    rollout: str = "",
    managed: bool = False,
) -> None:
    """Create what a service has in a cluster: Secret, ConfigMap, Deployment, HPA, Rollout.
    `managed`: Argo CD applies the workload (a Rollout named `name`) from the GitOps repository,
    so only its Secret, ConfigMap and HPA are made here.
    Controllers have not run yet: call cluster.settle() (converged) or cluster.advance()."""
    component = component or name
    image = f"registry.example.com/{component}:{version}"
    cluster.create(
        "secrets", namespace, secret_manifest(f"{name}-credentials", ["password"]), advance=False
    )
    runtime = {"LOG_SAMPLING_RATE": "0.1", "features": "{}", "config.json": "{}"}
    cluster.create(
        "configmaps", namespace, configmap_manifest(f"{name}-runtime", runtime), advance=False
    )
    if not managed:
        manifest = deployment_manifest(name, image=image, replicas=replicas)
        cluster.create("deployments", namespace, manifest, advance=False)
    if hpa:
        minimum, maximum, cpu = hpa
        kind = "Rollout" if managed else "Deployment"
        manifest = hpa_manifest(name, name, minimum=minimum, maximum=maximum, cpu=cpu, kind=kind)
        cluster.create("horizontalpodautoscalers", namespace, manifest, advance=False)
    if rollout and not managed:
        cluster.create("rollouts", namespace, rollout_manifest(rollout, image=image), advance=False)


def _number(text: str, modulo: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % modulo


def seed_from_catalog(clusters, managed: set[tuple[str, str]] = frozenset()) -> int:
    """One cluster per Environment; each ComponentEnvironment with a kube_deployment becomes a
    service in environment.kube_namespace. `managed` holds the (service, environment) pairs
    whose workload Argo CD applies from the GitOps repository. Returns how many services."""
    from catalog.models import ComponentEnvironment, Environment

    for environment in Environment.objects.all():
        clusters.add(
            environment.name,
            context=environment.kube_context or environment.name,
            namespace=environment.kube_namespace or "default",
        )
    rows = (
        ComponentEnvironment.objects.exclude(kube_deployment="")
        .select_related("component", "environment")
        .order_by("environment__name", "component__name")
    )
    count = 0
    for row in rows.iterator(chunk_size=500):
        cluster = clusters.get(row.environment.name)
        namespace = row.environment.kube_namespace or "default"
        component = row.component
        seed = f"{row.environment.name}/{component.name}"
        version = (component.extra or {}).get(
            "version"
        ) or f"1.{_number(seed, 20)}.{_number(seed + 'p', 10)}"
        hpa = None
        if component.tier == 1:
            hpa = (2 + _number(seed, 2), 6 + _number(seed, 6), 60 + 5 * _number(seed, 4))
        service_add(
            cluster,
            namespace,
            row.kube_deployment,
            component=component.name,
            version=version,
            replicas=2 + _number(seed, 2),
            hpa=hpa,
            rollout=row.kube_rollout,
            managed=(row.kube_deployment, row.environment.name) in managed,
        )
        count += 1
    for cluster in clusters.all():
        cluster.settle()
        _seed_restarts(cluster)
    return count


def _seed_restarts(cluster: Cluster) -> None:
    """A few pods restarted recently, so that pages showing restarts have something to show."""
    for pod in cluster.store.list("pods"):
        name = pod["metadata"]["name"]
        if _number(name, 7) == 0:
            reason = "OOMKilled" if _number(name, 2) else "Error"
            at = time.time() - 60 * (5 + _number(name, 300))
            cluster.pod_restart(
                pod["metadata"]["namespace"], name, reason=reason, exit_code=137, at=at
            )
