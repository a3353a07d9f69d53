"""Argo CD (REST API, bearer token) and the Argo Rollouts resources it manages.

Configured by `endpoint("argocd")` (ARGOCD_URL, else the sandbox) and `settings.ARGOCD_TOKEN`.
Reads use field projection (`?fields=`) so that polling one application stays cheap.
"""

import json
from dataclasses import dataclass
from typing import Protocol

import requests
from django.conf import settings

from .endpoints import endpoint
from .errors import IntegrationError

SYSTEM = "argocd"
APP_FIELDS = ",".join(
    "items." + field
    for field in (
        "metadata.name",
        "status.sync.status",
        "status.sync.revision",
        "status.health",
        "status.operationState.phase",
        "status.operationState.message",
        "status.operationState.syncResult.revision",
        "status.summary.images",
        "status.resources",
    )
)
ROLLOUT_ACTIONS = ("resume", "promote-full", "abort", "retry", "skip-current-step", "pause")


@dataclass(frozen=True)
class RolloutStatus:
    name: str
    namespace: str
    strategy: str  # "canary" or "bluegreen"
    phase: str  # Progressing, Paused, Healthy, Degraded
    message: str
    step_index: int | None
    step_count: int
    set_weight: int | None  # canary: the weight the current step asks for
    actual_weight: int | None  # canary: the weight traffic has now
    weights: tuple[int, ...]  # canary: the setWeight of every step, in order
    stable_hash: str
    current_hash: str
    active_selector: str  # blue-green
    preview_selector: str  # blue-green
    pause_reasons: tuple[str, ...]
    paused: bool
    aborted: bool
    aborted_at: str

    @property
    def completed(self) -> bool:
        return not self.aborted and self.stable_hash == self.current_hash


@dataclass(frozen=True)
class Application:
    name: str
    sync_status: str  # Synced, OutOfSync, Unknown
    revision: str  # the revision Argo CD compared against
    health_status: str  # Healthy, Progressing, Suspended, Degraded, Missing, Unknown
    health_message: str
    operation_phase: str  # Running, Succeeded, Failed, Error, Terminating, or ""
    operation_message: str
    synced_revision: str  # the revision of the last sync operation
    images: tuple[str, ...]
    rollout: RolloutStatus | None


class ArgoCDClient(Protocol):
    def application_get(self, name: str) -> Application: ...
    def application_sync(self, name: str, *, revision: str | None = None) -> None: ...
    def rollout_action(self, app: str, action: str) -> None: ...
    def running_images(self, name: str) -> tuple[str, ...]: ...


def rollout_status(obj: dict) -> RolloutStatus:
    """Our view of an `argoproj.io/v1alpha1` Rollout, computed as the kubectl plugin does."""
    spec, status = obj.get("spec", {}), obj.get("status", {})
    canary = spec.get("strategy", {}).get("canary")
    steps = (canary or {}).get("steps") or []
    index = status.get("currentStepIndex")
    completed = status.get("stableRS") and status.get("stableRS") == status.get("currentPodHash")
    set_weight = actual = None
    if canary is not None:
        set_weight = 100
        if index is not None and index < len(steps):
            set_weight = 0
            for step in reversed(steps[: index + 1]):
                if "setWeight" in step:
                    set_weight = step["setWeight"]
                    break
        weights = status.get("canary", {}).get("weights", {})
        actual = weights.get("canary", {}).get("weight", 0)
        if completed and not status.get("abort"):
            actual = 100
    blue_green = status.get("blueGreen", {})
    reasons = tuple(c.get("reason", "") for c in status.get("pauseConditions") or [])
    metadata = obj.get("metadata", {})
    return RolloutStatus(
        name=metadata.get("name", ""),
        namespace=metadata.get("namespace", ""),
        strategy="canary" if canary is not None else "bluegreen",
        phase=status.get("phase", ""),
        message=status.get("message", ""),
        step_index=index,
        step_count=len(steps),
        set_weight=set_weight,
        actual_weight=actual,
        weights=tuple(s["setWeight"] for s in steps if "setWeight" in s),
        stable_hash=status.get("stableRS", ""),
        current_hash=status.get("currentPodHash", ""),
        active_selector=blue_green.get("activeSelector", ""),
        preview_selector=blue_green.get("previewSelector", ""),
        pause_reasons=reasons,
        paused=bool(reasons) or bool(spec.get("paused")),
        aborted=bool(status.get("abort")),
        aborted_at=status.get("abortedAt", ""),
    )


class RestArgoCDClient:
    """The real client: Argo CD's REST API through requests."""

    def __init__(self, *, base_url: str, token: str, timeout: float):
        if not token:
            raise IntegrationError("ARGOCD_TOKEN is not set", transient=False, system=SYSTEM)
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, doing: str, **kwargs):
        try:
            response = self._session.request(
                method, f"{self._base}{path}", timeout=self._timeout, **kwargs
            )
        except requests.Timeout:
            raise IntegrationError(f"timed out while {doing}", transient=True, system=SYSTEM)
        except requests.RequestException as exc:
            raise IntegrationError(f"{doing}: {exc}", transient=True, system=SYSTEM)
        if response.status_code >= 400:
            try:
                message = response.json().get("message") or response.text
            except ValueError:
                message = response.text[:200]
            status = response.status_code
            raise IntegrationError(
                f"{doing}: HTTP {status} {message}",
                transient=status >= 500 or status == 429,
                system=SYSTEM,
                status=status,
            )
        try:
            return response.json()
        except ValueError:
            raise IntegrationError(
                f"{doing}: the answer is not JSON", transient=True, system=SYSTEM
            )

    def _application(self, name: str) -> dict:
        data = self._call(
            "GET",
            "/api/v1/applications",
            f"reading application {name}",
            params={"name": name, "fields": APP_FIELDS},
        )
        items = data.get("items") or []
        if not items:
            raise IntegrationError(
                f"no application named {name}", transient=False, system=SYSTEM, status=404
            )
        return items[0]

    @staticmethod
    def _rollout_ref(app: dict) -> dict | None:
        for resource in app.get("status", {}).get("resources") or []:
            if resource.get("kind") == "Rollout" and resource.get("group") == "argoproj.io":
                return resource
        return None

    def _resource_params(self, ref: dict) -> dict:
        return {
            "namespace": ref.get("namespace", ""),
            "resourceName": ref["name"],
            "version": ref.get("version", "v1alpha1"),
            "group": "argoproj.io",
            "kind": "Rollout",
        }

    def application_get(self, name: str) -> Application:
        """Sync, health, operation and (when the application has one) its Rollout's status."""
        app = self._application(name)
        status = app.get("status", {})
        rollout = None
        ref = self._rollout_ref(app)
        if ref is not None:
            data = self._call(
                "GET",
                f"/api/v1/applications/{name}/resource",
                f"reading the Rollout of {name}",
                params=self._resource_params(ref),
            )
            try:
                rollout = rollout_status(json.loads(data.get("manifest") or "{}"))
            except ValueError:
                raise IntegrationError(
                    f"the Rollout of {name} is not JSON", transient=True, system=SYSTEM
                )
        operation = status.get("operationState", {})
        return Application(
            name=app.get("metadata", {}).get("name", name),
            sync_status=status.get("sync", {}).get("status", "Unknown"),
            revision=status.get("sync", {}).get("revision", ""),
            health_status=status.get("health", {}).get("status", "Unknown"),
            health_message=status.get("health", {}).get("message", ""),
            operation_phase=operation.get("phase", ""),
            operation_message=operation.get("message", ""),
            synced_revision=operation.get("syncResult", {}).get("revision", ""),
            images=tuple(status.get("summary", {}).get("images") or ()),
            rollout=rollout,
        )

    def running_images(self, name: str) -> tuple[str, ...]:
        """The images the application's healthy pods run now, from its resource tree (unlike
        `images`, which also names the template of a rollout that is still on its way)."""
        data = self._call(
            "GET", f"/api/v1/applications/{name}/resource-tree", f"reading the pods of {name}"
        )
        found = {
            image
            for node in data.get("nodes") or []
            if node.get("kind") == "Pod" and (node.get("health") or {}).get("status") == "Healthy"
            for image in node.get("images") or []
        }
        return tuple(sorted(found))

    def application_sync(self, name: str, *, revision: str | None = None) -> None:
        """Start a sync operation (Argo CD refuses while another one runs)."""
        body = {"name": name, "revision": revision} if revision else {"name": name}
        self._call("POST", f"/api/v1/applications/{name}/sync", f"syncing {name}", json=body)

    def rollout_action(self, app: str, action: str) -> None:
        """Run an Argo CD resource action on the application's Rollout (resume, abort, ...)."""
        if action not in ROLLOUT_ACTIONS:
            raise IntegrationError(
                f"unknown Rollout action {action!r}", transient=False, system=SYSTEM
            )
        ref = self._rollout_ref(self._application(app))
        if ref is None:
            raise IntegrationError(f"{app} has no Rollout", transient=False, system=SYSTEM)
        self._call(
            "POST",
            f"/api/v1/applications/{app}/resource/actions",
            f"running {action} on the Rollout of {app}",
            params=self._resource_params(ref),
            data=json.dumps(action),
            headers={"Content-Type": "application/json"},
        )


def argocd_client() -> RestArgoCDClient:
    """The configured client (endpoint and token from settings)."""
    return RestArgoCDClient(
        base_url=endpoint(SYSTEM),
        token=getattr(settings, "ARGOCD_TOKEN", "") or "",
        timeout=settings.INTEGRATION_TIMEOUT_SECONDS,
    )
