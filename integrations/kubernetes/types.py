"""What the Kubernetes adapter returns (our frozen dataclasses) and the port it implements."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

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
class ConfigMapMount:
    """A ConfigMap volume mounted into a container: its keys become files under `path`.
    `items` (key, relative path) limits it to those keys; empty means every key."""

    name: str
    path: str
    items: tuple[tuple[str, str], ...] = ()
    sub_path: str = ""  # a single file mounted with subPath: never refreshed by the kubelet


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
    config_mounts: tuple[ConfigMapMount, ...] = ()


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
class PodInfo:
    """One pod of a deployment, as `kubectl get pods` lists it."""

    name: str
    version: str  # the first container's image tag
    ready: int  # containers ready
    containers: int
    restarts: int
    phase: str
    created_at: datetime | None = None


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
    kind: str = "Deployment"  # or "Rollout" (Argo Rollouts)
    running_tags: tuple[str, ...] = ()  # the image tags the ready pods run now
    pods: tuple[PodInfo, ...] = ()

    @property
    def tag_tuple(self) -> tuple[str, ...]:
        return (self.tag,)

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
