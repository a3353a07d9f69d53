"""Kubernetes adapter on the official `kubernetes` client: one ApiClient per environment.

Environments map to kubeconfig contexts (the sandbox writes `.sandbox/kubeconfig` with one context
per environment) or, inside a cluster, to the pod's service account. Every call has a timeout;
every failure becomes `IntegrationError` (transient for 5xx, 429, timeouts and unreachable
servers). Secret values are never read: env vars that come from Secrets are named, not shown.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from .errors import IntegrationError

SYSTEM = "kubernetes"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ROLLOUTS = ("argoproj.io", "v1alpha1", "rollouts")
# Literal env values whose name says "secret" are hidden too: they should have been Secrets.
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.I)


@dataclass(frozen=True)
class EnvVar:
    """One container env var. `value` is None when it comes from elsewhere or is redacted."""

    name: str
    value: str | None
    source: str = "value"  # value | secret | configmap | field | resource
    ref_name: str = ""
    ref_key: str = ""
    redacted: bool = False


@dataclass(frozen=True)
class EnvFrom:
    kind: str  # configmap | secret
    name: str
    prefix: str = ""


@dataclass(frozen=True)
class Resources:
    cpu_request: str | None = None
    cpu_limit: str | None = None
    memory_request: str | None = None
    memory_limit: str | None = None


@dataclass(frozen=True)
class ContainerInfo:
    name: str
    image: str
    tag: str
    resources: Resources
    env: tuple[EnvVar, ...] = ()
    env_from: tuple[EnvFrom, ...] = ()


@dataclass(frozen=True)
class MetricValue:
    name: str  # cpu | memory | ...
    target_utilization: int | None
    current_utilization: int | None
    current_average: str | None = None


@dataclass(frozen=True)
class HpaInfo:
    name: str
    min_replicas: int
    max_replicas: int
    target_cpu_utilization: int | None
    current_cpu_utilization: int | None
    current_replicas: int
    desired_replicas: int
    metrics: tuple[MetricValue, ...] = ()
    last_scale_time: str | None = None


@dataclass(frozen=True)
class PodRestart:
    pod: str
    container: str
    restart_count: int
    last_reason: str = ""
    last_finished_at: datetime | None = None


@dataclass(frozen=True)
class DeploymentInfo:
    environment: str
    namespace: str
    name: str
    image: str
    tag: str
    containers: tuple[ContainerInfo, ...]
    replicas_desired: int
    replicas_ready: int
    replicas_available: int
    replicas_updated: int
    replicas_current: int  # pods of every ReplicaSet, old ones included while a rollout runs
    strategy: str
    max_surge: str | None
    max_unavailable: str | None
    hpa: HpaInfo | None
    restarts: tuple[PodRestart, ...]
    restarted_at: str | None
    generation: int
    observed_generation: int

    @property
    def rolled_out(self) -> bool:
        return (
            self.observed_generation >= self.generation
            and self.replicas_updated == self.replicas_desired
            and self.replicas_current == self.replicas_updated
            and self.replicas_available >= self.replicas_desired
        )


@dataclass(frozen=True)
class ScaleInfo:
    name: str
    replicas: int
    current_replicas: int
    selector: str


@dataclass(frozen=True)
class ConfigMapInfo:
    namespace: str
    name: str
    data: Mapping[str, str]
    resource_version: str


@dataclass(frozen=True)
class RolloutInfo:
    namespace: str
    name: str
    phase: str
    message: str
    replicas: int
    steps: tuple[Mapping[str, Any], ...]
    current_step_index: int | None
    paused: bool
    pause_reasons: tuple[str, ...]
    aborted: bool
    promote_full: bool
    stable_rs: str
    current_pod_hash: str
    canary_weight: int
    stable_weight: int
    resource_version: str
    status: Mapping[str, Any] = field(default_factory=dict)


class KubernetesPort(Protocol):
    def deployment_get(self, env: str, namespace: str, name: str) -> DeploymentInfo: ...
    def deployment_scale(self, env: str, namespace: str, name: str, replicas: int) -> ScaleInfo: ...
    def deployment_restart(self, env: str, namespace: str, name: str) -> str: ...
    def hpa_patch(self, env: str, namespace: str, name: str, **changes: int) -> HpaInfo: ...
    def deployment_cpu_request_set(
        self, env: str, namespace: str, name: str, millicores: int
    ) -> str: ...
    def configmap_get(self, env: str, namespace: str, name: str) -> ConfigMapInfo: ...
    def configmap_merge(
        self, env: str, namespace: str, name: str, data: Mapping[str, str | None]
    ) -> ConfigMapInfo: ...
    def rollout_get(self, env: str, namespace: str, name: str) -> RolloutInfo: ...
    def rollout_patch_status(
        self, env: str, namespace: str, name: str, status: Mapping[str, Any]
    ) -> RolloutInfo: ...
    def rollout_patch_spec(
        self, env: str, namespace: str, name: str, spec: Mapping[str, Any]
    ) -> RolloutInfo: ...


class KubernetesAdapter:
    """The real adapter. `contexts` maps environment names to kubeconfig contexts (default: the
    environment name); `in_cluster` uses the pod's service account for every environment."""

    def __init__(
        self,
        *,
        kubeconfig: str | Path | None = None,
        contexts: Mapping[str, str] | None = None,
        in_cluster: bool = False,
        timeout: float = 10.0,
    ):
        if not kubeconfig and not in_cluster:
            raise IntegrationError(
                "no Kubernetes configuration: set KUBERNETES_KUBECONFIG, KUBERNETES_IN_CLUSTER=1, "
                "or start the sandbox (python manage.py sandbox) to get .sandbox/kubeconfig",
                transient=False,
                system=SYSTEM,
            )
        self.kubeconfig = str(kubeconfig) if kubeconfig else None
        self.contexts = dict(contexts or {})
        self.in_cluster = in_cluster
        self.timeout = float(timeout)
        self._clients: dict[str, client.ApiClient] = {}
        self._lock = threading.Lock()

    # -- clients and errors ------------------------------------------------------------------

    def api_client(self, env: str) -> client.ApiClient:
        with self._lock:
            if env not in self._clients:
                self._clients[env] = self._new_client(env)
            return self._clients[env]

    def _new_client(self, env: str) -> client.ApiClient:
        configuration = client.Configuration()
        context = "in-cluster" if self.in_cluster else self.contexts.get(env, env)
        try:
            if self.in_cluster:
                config.load_incluster_config(client_configuration=configuration)
            else:
                config.load_kube_config(
                    config_file=self.kubeconfig,
                    context=context,
                    client_configuration=configuration,
                    persist_config=False,
                )
        except (ConfigException, OSError) as exc:
            raise IntegrationError(
                f"cannot configure Kubernetes for {env} (context {context}): {exc}",
                transient=False,
                system=SYSTEM,
            ) from exc
        configuration.retries = 0  # Celery retries transient errors, with backoff
        return client.ApiClient(configuration)

    def _call(self, env: str, what: str, method: Callable, *args, **kwargs):
        try:
            return method(*args, _request_timeout=self.timeout, **kwargs)
        except ApiException as exc:
            status = exc.status or 0
            message = _status_message(exc)
            raise IntegrationError(
                f"{what} in {env}: {message}",
                transient=status == 0 or status >= 500 or status == 429,
                system=SYSTEM,
                status=status or None,
            ) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise IntegrationError(
                f"{what} in {env}: Kubernetes API unreachable or too slow ({reason})",
                transient=True,
                system=SYSTEM,
            ) from exc

    def _dict(self, env: str, model) -> dict:
        return self.api_client(env).sanitize_for_serialization(model) or {}

    # -- deployments ---------------------------------------------------------------------------

    def deployment_get(self, env: str, namespace: str, name: str) -> DeploymentInfo:
        """Live configuration of a Deployment, with its HPA (if one targets it) and pod restarts."""
        api_client = self.api_client(env)
        apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
        autoscaling = client.AutoscalingV2Api(api_client)
        what = f"reading deployment {namespace}/{name}"
        deployment = self._dict(
            env, self._call(env, what, apps.read_namespaced_deployment, name, namespace)
        )
        hpas = self._dict(
            env,
            self._call(env, what, autoscaling.list_namespaced_horizontal_pod_autoscaler, namespace),
        )
        hpa = next(
            (
                item
                for item in hpas.get("items") or []
                if (item["spec"].get("scaleTargetRef") or {}).get("kind") == "Deployment"
                and item["spec"]["scaleTargetRef"].get("name") == name
            ),
            None,
        )
        match = (deployment["spec"].get("selector") or {}).get("matchLabels") or {}
        selector = ",".join(f"{k}={v}" for k, v in sorted(match.items()))
        pods = self._dict(
            env,
            self._call(env, what, core.list_namespaced_pod, namespace, label_selector=selector),
        )
        return _deployment_info(env, deployment, hpa, pods.get("items") or [])

    def deployment_scale(self, env: str, namespace: str, name: str, replicas: int) -> ScaleInfo:
        """Set spec.replicas through the scale subresource (what `kubectl scale` does)."""
        apps = client.AppsV1Api(self.api_client(env))
        scale = self._call(
            env,
            f"scaling deployment {namespace}/{name}",
            apps.patch_namespaced_deployment_scale,
            name,
            namespace,
            {"spec": {"replicas": int(replicas)}},
            _content_type=MERGE_PATCH,
        )
        return _scale_info(self._dict(env, scale))

    def deployment_restart(self, env: str, namespace: str, name: str) -> str:
        """Roll every pod, as `kubectl rollout restart` does; returns the restartedAt stamp."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        apps = client.AppsV1Api(self.api_client(env))
        self._call(
            env,
            f"restarting deployment {namespace}/{name}",
            apps.patch_namespaced_deployment,
            name,
            namespace,
            body,
            _content_type=STRATEGIC_MERGE_PATCH,
        )
        return stamp

    def deployment_cpu_request_set(
        self, env: str, namespace: str, name: str, millicores: int
    ) -> str:
        """Set resources.requests.cpu of the first container (strategic merge by container
        name, as `kubectl set resources` does); the pods roll. Returns the quantity set."""
        apps = client.AppsV1Api(self.api_client(env))
        what = f"setting the CPU request of deployment {namespace}/{name}"
        current = self._dict(
            env, self._call(env, what, apps.read_namespaced_deployment, name, namespace)
        )
        containers = current["spec"]["template"]["spec"].get("containers") or []
        if not containers:
            raise IntegrationError(
                f"Deployment {namespace}/{name} has no container.", transient=False
            )
        quantity = f"{int(millicores)}m"
        container = {"name": containers[0]["name"], "resources": {"requests": {"cpu": quantity}}}
        body = {"spec": {"template": {"spec": {"containers": [container]}}}}
        self._call(
            env,
            what,
            apps.patch_namespaced_deployment,
            name,
            namespace,
            body,
            _content_type=STRATEGIC_MERGE_PATCH,
        )
        return quantity

    # -- horizontal pod autoscalers -----------------------------------------------------------

    def hpa_patch(
        self,
        env: str,
        namespace: str,
        name: str,
        *,
        min_replicas: int | None = None,
        max_replicas: int | None = None,
        target_cpu_utilization: int | None = None,
    ) -> HpaInfo:
        """Change an autoscaling/v2 HPA's bounds and CPU target; other metrics stay as they are."""
        autoscaling = client.AutoscalingV2Api(self.api_client(env))
        what = f"changing autoscaler {namespace}/{name}"
        current = self._dict(
            env,
            self._call(
                env, what, autoscaling.read_namespaced_horizontal_pod_autoscaler, name, namespace
            ),
        )
        spec: dict[str, Any] = {}
        if min_replicas is not None:
            spec["minReplicas"] = int(min_replicas)
        if max_replicas is not None:
            spec["maxReplicas"] = int(max_replicas)
        if target_cpu_utilization is not None:
            spec["metrics"] = _with_cpu_target(current["spec"], int(target_cpu_utilization))
        # resourceVersion makes the metrics list replacement safe against a concurrent change.
        body = {"metadata": {"resourceVersion": current["metadata"]["resourceVersion"]}}
        patched = self._call(
            env,
            what,
            autoscaling.patch_namespaced_horizontal_pod_autoscaler,
            name,
            namespace,
            body | {"spec": spec},
            _content_type=MERGE_PATCH,
        )
        return _hpa_info(self._dict(env, patched))

    # -- config maps ---------------------------------------------------------------------------

    def configmap_get(self, env: str, namespace: str, name: str) -> ConfigMapInfo:
        core = client.CoreV1Api(self.api_client(env))
        found = self._call(
            env,
            f"reading configmap {namespace}/{name}",
            core.read_namespaced_config_map,
            name,
            namespace,
        )
        return _configmap_info(self._dict(env, found))

    def configmap_merge(
        self, env: str, namespace: str, name: str, data: Mapping[str, str | None]
    ) -> ConfigMapInfo:
        """Merge keys into a ConfigMap's data (None removes a key); other keys are untouched."""
        core = client.CoreV1Api(self.api_client(env))
        patched = self._call(
            env,
            f"updating configmap {namespace}/{name}",
            core.patch_namespaced_config_map,
            name,
            namespace,
            {"data": dict(data)},
            _content_type=MERGE_PATCH,
        )
        return _configmap_info(self._dict(env, patched))

    # -- Argo Rollouts -------------------------------------------------------------------------

    def rollout_get(self, env: str, namespace: str, name: str) -> RolloutInfo:
        objects = client.CustomObjectsApi(self.api_client(env))
        found = self._call(
            env,
            f"reading rollout {namespace}/{name}",
            objects.get_namespaced_custom_object,
            *ROLLOUTS[:2],
            namespace,
            ROLLOUTS[2],
            name,
        )
        return _rollout_info(found)

    def rollout_patch_status(
        self, env: str, namespace: str, name: str, status: Mapping[str, Any]
    ) -> RolloutInfo:
        """Merge-patch the status subresource (promote, abort, retry as the Argo plugin does)."""
        objects = client.CustomObjectsApi(self.api_client(env))
        patched = self._call(
            env,
            f"changing rollout status {namespace}/{name}",
            objects.patch_namespaced_custom_object_status,
            *ROLLOUTS[:2],
            namespace,
            ROLLOUTS[2],
            name,
            {"status": dict(status)},
            _content_type=MERGE_PATCH,
        )
        return _rollout_info(patched)

    def rollout_patch_spec(
        self, env: str, namespace: str, name: str, spec: Mapping[str, Any]
    ) -> RolloutInfo:
        """Merge-patch a Rollout's spec (pause, restartAt, template changes)."""
        objects = client.CustomObjectsApi(self.api_client(env))
        patched = self._call(
            env,
            f"changing rollout {namespace}/{name}",
            objects.patch_namespaced_custom_object,
            *ROLLOUTS[:2],
            namespace,
            ROLLOUTS[2],
            name,
            {"spec": dict(spec)},
            _content_type=MERGE_PATCH,
        )
        return _rollout_info(patched)


def kubernetes_adapter(*, contexts: Mapping[str, str] | None = None) -> KubernetesAdapter:
    """The adapter configured from settings: KUBERNETES_IN_CLUSTER, else KUBECONFIG (by default
    the sandbox's .sandbox/kubeconfig); contexts default to Environment.kube_context."""
    from django.conf import settings

    if contexts is None:
        from catalog.models import Environment

        contexts = dict(
            Environment.objects.exclude(kube_context="").values_list("name", "kube_context")
        )
    timeout = getattr(settings, "KUBERNETES_TIMEOUT_SECONDS", settings.INTEGRATION_TIMEOUT_SECONDS)
    if getattr(settings, "KUBERNETES_IN_CLUSTER", False):
        return KubernetesAdapter(in_cluster=True, contexts=contexts, timeout=timeout)
    path = getattr(settings, "KUBECONFIG", "") or settings.SANDBOX_DIR / "kubeconfig"
    kubeconfig = path if Path(path).exists() else None
    return KubernetesAdapter(kubeconfig=kubeconfig, contexts=contexts, timeout=timeout)


# -- turning API objects into our dataclasses ------------------------------------------------


def _status_message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict) and body.get("message"):
        return f"{body['message']} (HTTP {exc.status})"
    return f"HTTP {exc.status} {exc.reason or ''}".strip()


def _split_image(image: str) -> tuple[str, str]:
    if "@" in image:
        return image.split("@", 1)[0], image.split("@", 1)[1]
    repository, _, tag = image.rpartition(":")
    if not repository or "/" in tag:
        return image, "latest"
    return repository, tag


def _env_var(item: dict) -> EnvVar:
    name = item["name"]
    source = item.get("valueFrom") or {}
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        return EnvVar(name, None, "secret", ref.get("name", ""), ref.get("key", ""), redacted=True)
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        return EnvVar(name, None, "configmap", ref.get("name", ""), ref.get("key", ""))
    if "fieldRef" in source:
        return EnvVar(name, None, "field", ref_key=source["fieldRef"].get("fieldPath", ""))
    if "resourceFieldRef" in source:
        return EnvVar(
            name, None, "resource", ref_key=source["resourceFieldRef"].get("resource", "")
        )
    if SECRET_NAME.search(name):
        return EnvVar(name, None, "value", redacted=True)
    return EnvVar(name, item.get("value", ""))


def _container(item: dict) -> ContainerInfo:
    resources = item.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    env_from = []
    for source in item.get("envFrom") or []:
        for key, kind in (("configMapRef", "configmap"), ("secretRef", "secret")):
            if key in source:
                env_from.append(
                    EnvFrom(kind, source[key].get("name", ""), source.get("prefix", ""))
                )
    _, tag = _split_image(item["image"])
    return ContainerInfo(
        name=item["name"],
        image=item["image"],
        tag=tag,
        resources=Resources(
            requests.get("cpu"), limits.get("cpu"), requests.get("memory"), limits.get("memory")
        ),
        env=tuple(_env_var(env) for env in item.get("env") or []),
        env_from=tuple(env_from),
    )


def _deployment_info(env: str, deployment: dict, hpa: dict | None, pods: list) -> DeploymentInfo:
    meta, spec, status = deployment["metadata"], deployment["spec"], deployment.get("status") or {}
    template = spec.get("template") or {}
    containers = tuple(_container(c) for c in (template.get("spec") or {}).get("containers") or [])
    strategy = spec.get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    first = containers[0] if containers else None
    return DeploymentInfo(
        environment=env,
        namespace=meta["namespace"],
        name=meta["name"],
        image=first.image if first else "",
        tag=first.tag if first else "",
        containers=containers,
        replicas_desired=spec.get("replicas", 1),
        replicas_ready=status.get("readyReplicas", 0),
        replicas_available=status.get("availableReplicas", 0),
        replicas_updated=status.get("updatedReplicas", 0),
        replicas_current=status.get("replicas", 0),
        strategy=strategy.get("type", "RollingUpdate"),
        max_surge=str(rolling["maxSurge"]) if "maxSurge" in rolling else None,
        max_unavailable=str(rolling["maxUnavailable"]) if "maxUnavailable" in rolling else None,
        hpa=_hpa_info(hpa) if hpa else None,
        restarts=_restarts(pods),
        restarted_at=annotations.get(RESTARTED_AT),
        generation=meta.get("generation", 1),
        observed_generation=status.get("observedGeneration", 0),
    )


def _restarts(pods: list[dict]) -> tuple[PodRestart, ...]:
    found = []
    for pod in pods:
        for container in (pod.get("status") or {}).get("containerStatuses") or []:
            if not container.get("restartCount"):
                continue
            terminated = (container.get("lastState") or {}).get("terminated") or {}
            finished = terminated.get("finishedAt")
            found.append(
                PodRestart(
                    pod=pod["metadata"]["name"],
                    container=container["name"],
                    restart_count=container["restartCount"],
                    last_reason=terminated.get("reason", ""),
                    last_finished_at=_parse_time(finished),
                )
            )
    epoch = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda r: r.last_finished_at or epoch, reverse=True)
    return tuple(found)


def _parse_time(value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _with_cpu_target(spec: dict, utilization: int) -> list[dict]:
    metrics = [dict(m) for m in spec.get("metrics") or []]
    cpu = {
        "type": "Resource",
        "resource": {
            "name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": utilization},
        },
    }
    for index, metric in enumerate(metrics):
        if metric.get("type") == "Resource" and (metric.get("resource") or {}).get("name") == "cpu":
            metrics[index] = cpu
            return metrics
    return [*metrics, cpu]


def _hpa_info(hpa: dict) -> HpaInfo:
    spec, status = hpa["spec"], hpa.get("status") or {}
    current = {
        m["resource"]["name"]: m["resource"].get("current") or {}
        for m in status.get("currentMetrics") or []
        if m.get("type") == "Resource" and m.get("resource")
    }
    metrics = []
    for metric in spec.get("metrics") or []:
        resource = metric.get("resource") or {}
        if metric.get("type") != "Resource" or not resource.get("name"):
            continue
        now = current.get(resource["name"], {})
        metrics.append(
            MetricValue(
                name=resource["name"],
                target_utilization=(resource.get("target") or {}).get("averageUtilization"),
                current_utilization=now.get("averageUtilization"),
                current_average=now.get("averageValue"),
            )
        )
    cpu = next((m for m in metrics if m.name == "cpu"), None)
    return HpaInfo(
        name=hpa["metadata"]["name"],
        min_replicas=spec.get("minReplicas", 1),
        max_replicas=spec["maxReplicas"],
        target_cpu_utilization=cpu.target_utilization if cpu else None,
        current_cpu_utilization=cpu.current_utilization if cpu else None,
        current_replicas=status.get("currentReplicas", 0),
        desired_replicas=status.get("desiredReplicas", 0),
        metrics=tuple(metrics),
        last_scale_time=str(status["lastScaleTime"]) if status.get("lastScaleTime") else None,
    )


def _scale_info(scale: dict) -> ScaleInfo:
    status = scale.get("status") or {}
    return ScaleInfo(
        name=scale["metadata"]["name"],
        replicas=(scale.get("spec") or {}).get("replicas", 0),
        current_replicas=status.get("replicas", 0),
        selector=status.get("selector", ""),
    )


def _configmap_info(configmap: dict) -> ConfigMapInfo:
    meta = configmap["metadata"]
    return ConfigMapInfo(
        namespace=meta["namespace"],
        name=meta["name"],
        data=dict(configmap.get("data") or {}),
        resource_version=meta.get("resourceVersion", ""),
    )


def _rollout_info(rollout: dict) -> RolloutInfo:
    meta, spec, status = rollout["metadata"], rollout.get("spec") or {}, rollout.get("status") or {}
    steps = ((spec.get("strategy") or {}).get("canary") or {}).get("steps") or []
    weights = (status.get("canary") or {}).get("weights") or {}
    return RolloutInfo(
        namespace=meta["namespace"],
        name=meta["name"],
        phase=status.get("phase", ""),
        message=status.get("message", ""),
        replicas=spec.get("replicas", 1),
        steps=tuple(steps),
        current_step_index=status.get("currentStepIndex"),
        paused=bool(spec.get("paused")) or bool(status.get("pauseConditions")),
        pause_reasons=tuple(p.get("reason", "") for p in status.get("pauseConditions") or []),
        aborted=bool(status.get("abort")),
        promote_full=bool(status.get("promoteFull")),
        stable_rs=status.get("stableRS", ""),
        current_pod_hash=status.get("currentPodHash", ""),
        canary_weight=(weights.get("canary") or {}).get("weight", 0),
        stable_weight=(weights.get("stable") or {}).get("weight", 100),
        resource_version=meta.get("resourceVersion", ""),
        status=status,
    )
