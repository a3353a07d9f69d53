"""The real adapter on the official `kubernetes` client, and its factory."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from ..errors import IntegrationError
from .parsing import (
    _configmap_info,
    _deployment_info,
    _hpa_info,
    _rollout_info,
    _scale_info,
    _status_message,
    _with_cpu_target,
)
from .types import (
    MERGE_PATCH,
    RESTARTED_AT,
    ROLLOUTS,
    STRATEGIC_MERGE_PATCH,
    SYSTEM,
    ConfigMapInfo,
    DeploymentInfo,
    HpaInfo,
    RolloutInfo,
    ScaleInfo,
)


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
        try:
            deployment = self._dict(
                env, self._call(env, what, apps.read_namespaced_deployment, name, namespace)
            )
        except IntegrationError as exc:
            if exc.status != 404:
                raise
            deployment = self._rollout_workload(env, namespace, name, exc)
        hpas = self._dict(
            env,
            self._call(env, what, autoscaling.list_namespaced_horizontal_pod_autoscaler, namespace),
        )
        hpa = next(
            (
                item
                for item in hpas.get("items") or []
                if (item["spec"].get("scaleTargetRef") or {}).get("kind")
                == deployment.get("kind", "Deployment")
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

    def _rollout_workload(self, env: str, namespace: str, name: str, missing) -> dict:
        """A progressive-delivery service runs as an Argo Rollout of that name instead: it has
        the same template, replicas and selector, so the live view reads it the same way."""
        objects = client.CustomObjectsApi(self.api_client(env))
        try:
            return self._call(
                env,
                f"reading deployment or rollout {namespace}/{name}",
                objects.get_namespaced_custom_object,
                *ROLLOUTS[:2],
                namespace,
                ROLLOUTS[2],
                name,
            )
        except IntegrationError as exc:
            raise missing if exc.status == 404 else exc

    def deployment_scale(self, env: str, namespace: str, name: str, replicas: int) -> ScaleInfo:
        """Set spec.replicas through the scale subresource (what `kubectl scale` does), of the
        Deployment or, when the service runs as one, of its Argo Rollout."""
        apps = client.AppsV1Api(self.api_client(env))
        objects = client.CustomObjectsApi(self.api_client(env))
        body, what = {"spec": {"replicas": int(replicas)}}, f"scaling {namespace}/{name}"
        try:
            scale = self._call(
                env, what, apps.patch_namespaced_deployment_scale, name, namespace, body,
                _content_type=MERGE_PATCH,
            )  # fmt: skip
        except IntegrationError as exc:
            if exc.status != 404:
                raise
            scale = self._call(
                env, what, objects.patch_namespaced_custom_object_scale, *ROLLOUTS[:2],
                namespace, ROLLOUTS[2], name, body, _content_type=MERGE_PATCH,
            )  # fmt: skip
        return _scale_info(self._dict(env, scale))

    def deployment_restart(self, env: str, namespace: str, name: str) -> str:
        """Roll every pod, as `kubectl rollout restart` does (an Argo Rollout: `spec.restartAt`,
        as `kubectl argo rollouts restart`); returns the restart stamp."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        apps = client.AppsV1Api(self.api_client(env))
        what = f"restarting {namespace}/{name}"
        try:
            self._call(
                env, what, apps.patch_namespaced_deployment, name, namespace, body,
                _content_type=STRATEGIC_MERGE_PATCH,
            )  # fmt: skip
        except IntegrationError as exc:
            if exc.status != 404:
                raise
            self.rollout_patch_spec(env, namespace, name, {"restartAt": stamp})
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
    the sandbox's .sandbox/kubeconfig). `contexts` maps environment names to kubeconfig contexts;
    callers pass it (the catalog's `environment_kube_contexts()`), else each environment's name
    is its context. The adapter reads no model of ours."""
    from django.conf import settings

    timeout = getattr(settings, "KUBERNETES_TIMEOUT_SECONDS", settings.INTEGRATION_TIMEOUT_SECONDS)
    if getattr(settings, "KUBERNETES_IN_CLUSTER", False):
        return KubernetesAdapter(in_cluster=True, contexts=contexts, timeout=timeout)
    path = getattr(settings, "KUBECONFIG", "") or settings.SANDBOX_DIR / "kubeconfig"
    kubeconfig = path if Path(path).exists() else None
    return KubernetesAdapter(kubeconfig=kubeconfig, contexts=contexts, timeout=timeout)
