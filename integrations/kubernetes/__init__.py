"""Kubernetes adapter on the official `kubernetes` client: one ApiClient per environment.

Environments map to kubeconfig contexts (the sandbox writes `.sandbox/kubeconfig` with one context
per environment) or, inside a cluster, to the pod's service account. Every call has a timeout;
every failure becomes `IntegrationError` (transient for 5xx, 429, timeouts and unreachable
servers). Secret values are never read: env vars that come from Secrets are named, not shown.
"""

from .adapter import KubernetesAdapter, kubernetes_adapter
from .types import (
    MERGE_PATCH,
    RESTARTED_AT,
    ROLLOUTS,
    SECRET_NAME,
    STRATEGIC_MERGE_PATCH,
    SYSTEM,
    ConfigMapInfo,
    ConfigMapMount,
    ContainerInfo,
    DeploymentInfo,
    EnvFrom,
    EnvVar,
    HpaInfo,
    KubernetesPort,
    MetricValue,
    PodInfo,
    PodRestart,
    Resources,
    RolloutInfo,
    ScaleInfo,
)

__all__ = [
    "KubernetesAdapter",
    "kubernetes_adapter",
    "ConfigMapInfo",
    "ConfigMapMount",
    "ContainerInfo",
    "DeploymentInfo",
    "EnvFrom",
    "EnvVar",
    "HpaInfo",
    "KubernetesPort",
    "MetricValue",
    "PodInfo",
    "PodRestart",
    "Resources",
    "RolloutInfo",
    "ScaleInfo",
    "MERGE_PATCH",
    "RESTARTED_AT",
    "ROLLOUTS",
    "SECRET_NAME",
    "STRATEGIC_MERGE_PATCH",
    "SYSTEM",
]
