"""Argo CD REST API: applications reconciled from the GitOps repository into the clusters.

One Application per `apps/<service>/<environment>/values.yaml` at HEAD of the GitOps repository
(`sandbox/gitops.py`), named `<service>-<environment>`, with an automated sync policy: a change
at HEAD is noticed (OutOfSync), synced after REFRESH_SECONDS, the sync operation runs for
SYNC_SECONDS, then the rendered Rollout `<service>` is applied to the Kubernetes sandbox's
cluster of that environment (`sandbox/argocd_apply.py`), whose Rollout controller steps it
through its strategy. Sync status, health, images and the resource tree are read back from the
live objects there. See docs/release-sandboxes.md.
"""

import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field

from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import argocd_apply as live
from .gitops import gitops_repo
from .kube_store import MERGE_PATCH, KubeError
from .kubernetes import cluster_set
from .registry import SandboxState, register
from .rollouts import RolloutActionError, rollout_action_patch, rollout_actions
from .web import (
    FaultKnobs,
    bearer_token,
    json_response,
    request_json,
    rfc3339,
    time_scale,
    wsgi_app,
)

SANDBOX_TOKEN = "switchyard-sandbox"
ADMIN_PASSWORD = "sandbox"
REFRESH_SECONDS = 1.0
SYNC_SECONDS = 1.0
NAMESPACE = live.NAMESPACE
_history_ids = itertools.count(1)


@dataclass
class AppState:
    service: str
    environment: str
    created: float
    automated: bool = True
    synced_values: dict | None = None
    synced_revision: str = ""
    pending_since: dict[str, float] = field(default_factory=dict)
    operation: dict | None = None
    history: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.service}-{self.environment}"


def _desired(values: dict) -> dict:
    return {"image": values.get("image"), "rollout": values.get("rollout")}


class ArgoCDSandbox:
    def __init__(self, state: SandboxState):
        self.state = state
        self.apps: dict[str, AppState] = {}
        self.lock = threading.RLock()  # writes and reconciling; reads take it only to refresh
        self.head = ""
        self.due = 0.0  # when refresh() next has something to do at the same HEAD
        self.faults = FaultKnobs()
        self.stopped = threading.Event()
        self.actions_run: list[tuple[str, str]] = []  # (application, action), for tests
        self.tokens = {SANDBOX_TOKEN}
        self.url_map = Map(
            [
                Rule("/api/v1/session", endpoint="session", methods=["POST", "DELETE"]),
                Rule("/api/v1/applications", endpoint="list"),
                Rule("/api/v1/applications/<name>", endpoint="get"),
                Rule("/api/v1/applications/<name>/sync", endpoint="sync", methods=["POST"]),
                Rule("/api/v1/applications/<name>/resource", endpoint="resource"),
                Rule("/api/v1/applications/<name>/resource-tree", endpoint="tree"),
                Rule(
                    "/api/v1/applications/<name>/resource/actions",
                    endpoint="actions",
                    methods=["GET", "POST"],
                ),
                Rule("/sandbox/applications/<name>", endpoint="ctl_app", methods=["POST"]),
            ]
        )

    def cluster(self, app: AppState):
        """The Kubernetes sandbox's cluster of the application's destination (its environment)."""
        return cluster_set(self.state).ensure(app.environment)

    def wsgi(self):
        return wsgi_app(self.handle, self.faults, self.rate_limited, self.failed)

    def rate_limited(self, request: Request) -> Response:
        return rpc_error(429, 8, "too many requests")

    def failed(self, request: Request, status: int) -> Response:
        return rpc_error(status, 5 if status == 404 else 13, f"HTTP {status}")

    def handle(self, request: Request) -> Response:
        endpoint, args = self.url_map.bind_to_environ(request.environ).match()
        if endpoint == "session":
            return self.do_session(request)
        if endpoint.startswith("ctl_"):
            return self.ctl_app(request, **args)
        if bearer_token(request) not in self.tokens:
            return rpc_error(401, 16, "no session information")
        handler = getattr(self, f"do_{endpoint}")
        if endpoint in READS and request.method == "GET":
            # Reads run side by side (the live objects are read under each cluster's own lock):
            # they refresh first, under the lock, only when that would change something.
            self.catch_up(time.time())
            return handler(request, **args)
        with self.lock:
            self.refresh(time.time())
            return handler(request, **args)

    def catch_up(self, now: float) -> None:
        """What refresh() would do now, when HEAD moved or a sync is due; else nothing."""
        if self.apps and now < self.due and gitops_repo(self.state).head() == self.head:
            return
        with self.lock:
            self.refresh(now)

    # ---- the controller ---------------------------------------------------------------------

    def start(self) -> None:
        """Apply what the repository held when the sandbox started; later commits get synced."""
        with self.lock:
            if self.apps:
                return
            repo = gitops_repo(self.state)
            now = time.time()
            initial_head, initial = repo.applications(repo.initial_head)
            for (service, environment), values in initial.items():
                app = AppState(service=service, environment=environment, created=now)
                self.apps[app.name] = app
                manifest = live.render(app.name, service, values)
                self.cluster(app).create("rollouts", NAMESPACE, manifest, advance=False)
                operation = {"values": values, "revision": initial_head, "started": now}
                self.sync_finish(app, operation, now, applied=True)
            for cluster in cluster_set(self.state).all():
                cluster.settle()
            self.head = repo.head()
        threading.Thread(
            target=self.controller, name="sandbox-argocd-controller", daemon=True
        ).start()

    def controller(self) -> None:
        """Reconcile in the background, as Argo CD's application controller does, so that a
        commit reaches the cluster whether or not anyone is asking Argo CD."""
        while not self.stopped.wait(
            min(REFRESH_SECONDS, SYNC_SECONDS) * time_scale(self.state) / 4
        ):
            with self.lock:
                self.refresh(time.time())

    def refresh(self, now: float) -> None:
        """Notice changes at HEAD, start and finish sync operations."""
        repo = gitops_repo(self.state)
        if not self.apps:
            self.start()
        head, desired = repo.applications()
        scale = time_scale(self.state)
        due = float("inf")
        for (service, environment), values in desired.items():
            app = self.apps.get(f"{service}-{environment}")
            if app is None:
                app = self.app_create(service, environment, values, head, now)
            target = _desired(values)
            operation = app.operation
            if operation and operation["phase"] == "Running":
                if now - operation["started"] >= SYNC_SECONDS * scale:
                    self.sync_finish(app, operation, now)
                else:
                    due = min(due, operation["started"] + SYNC_SECONDS * scale)
                continue
            if target == app.synced_values:
                app.pending_since.clear()
                continue
            noticed = app.pending_since.setdefault(head, now)
            if app.automated and now - noticed >= REFRESH_SECONDS * scale:
                started = noticed + REFRESH_SECONDS * scale
                self.sync_start(app, values, head, started, "automated")
                due = min(due, started + SYNC_SECONDS * scale)
            elif app.automated:
                due = min(due, noticed + REFRESH_SECONDS * scale)
        self.head, self.due = head, due

    def app_create(self, service, environment, values, head, now) -> AppState:
        app = AppState(service=service, environment=environment, created=now)
        self.apps[app.name] = app
        self.sync_finish(app, {"values": values, "revision": head, "started": now}, now)
        return app

    def sync_start(self, app: AppState, values: dict, revision: str, started: float, by: str):
        self.due = min(self.due, started + SYNC_SECONDS * time_scale(self.state))
        app.operation = {
            "values": values,
            "revision": revision,
            "started": started,
            "phase": "Running",
            "initiated_by": by,
        }

    def sync_finish(self, app: AppState, operation: dict, now: float, applied=False) -> None:
        values = operation["values"]
        if not applied:
            live.apply(self.cluster(app), live.render(app.name, app.service, values))
        operation.update(phase="Succeeded", finished=now)
        operation.setdefault("initiated_by", "automated")
        app.operation = operation
        app.synced_values = _desired(values)
        app.synced_revision = operation["revision"]
        app.pending_since.clear()
        app.history.append(
            {
                "id": next(_history_ids),
                "revision": operation["revision"],
                "deployStartedAt": rfc3339(operation["started"]),
                "deployedAt": rfc3339(now),
                "source": self.source(app),
                "initiatedBy": {"automated": operation["initiated_by"] == "automated"},
            }
        )
        del app.history[:-10]

    def app_find(self, name: str) -> AppState:
        app = self.apps.get(name)
        if app is None:
            raise NotFound()
        return app

    def rollout(self, app: AppState) -> dict:
        found = live.live_rollout(self.cluster(app), app.service)
        if found is None:
            raise NotFound()
        return found

    # ---- JSON -------------------------------------------------------------------------------

    def source(self, app: AppState) -> dict:
        return {
            "repoURL": f"file://{gitops_repo(self.state).path}",
            "path": f"apps/{app.service}/{app.environment}",
            "targetRevision": "HEAD",
            "helm": {"valueFiles": ["values.yaml"]},
        }

    def application(self, app: AppState) -> dict:
        cluster = self.cluster(app)
        rollout = live.live_rollout(cluster, app.service)
        _, desired = gitops_repo(self.state).applications()
        values = desired.get((app.service, app.environment), {})
        in_sync = live.in_sync(rollout, live.render(app.name, app.service, values))
        health, health_message = live.health(rollout)
        if app.operation and app.operation["phase"] == "Running":
            health = "Progressing"
        destination = {"name": app.environment, "namespace": NAMESPACE}
        data = {  # the API answers without apiVersion and kind (not in its swagger)
            "metadata": {
                "name": app.name,
                "namespace": "argocd",
                "uid": f"{abs(hash(app.name)):032x}"[:32],
                "resourceVersion": str(len(app.history)),
                "generation": len(app.history),
                "creationTimestamp": rfc3339(app.created),
                "labels": {
                    "switchyard.dev/service": app.service,
                    "switchyard.dev/environment": app.environment,
                },
            },
            "spec": {
                "project": "default",
                "source": self.source(app),
                "destination": destination,
                "syncPolicy": {"automated": {"prune": True, "selfHeal": True}}
                if app.automated
                else {},
            },
            "status": {
                "sync": {
                    "status": "Synced" if in_sync else "OutOfSync",
                    "revision": self.head,
                    "comparedTo": {"source": self.source(app), "destination": destination},
                },
                "health": {"status": health, "message": health_message},
                "resources": self.resources(app, rollout, in_sync, health),
                "summary": {"images": live.images(cluster, rollout)},
                "history": list(app.history),  # a copy: sync_finish trims it meanwhile
                "reconciledAt": rfc3339(time.time()),
                "sourceType": "Helm",
                "controllerNamespace": "argocd",
            },
        }
        if app.operation:
            data["status"]["operationState"] = self.operation_state(app)
        return data

    def operation_state(self, app: AppState) -> dict:
        operation = app.operation
        running = operation["phase"] == "Running"
        state = {
            "operation": {
                "sync": {"revision": operation["revision"]},
                "initiatedBy": {"automated": operation["initiated_by"] == "automated"},
            },
            "phase": operation["phase"],
            "message": "waiting for completion of hook" if running else "successfully synced",
            "startedAt": rfc3339(operation["started"]),
            "syncResult": {"revision": operation["revision"], "source": self.source(app)},
        }
        if not running:
            state["finishedAt"] = rfc3339(operation["finished"])
        return state

    def resources(self, app: AppState, rollout: dict | None, in_sync: bool, health: str) -> list:
        message = ((rollout or {}).get("status") or {}).get("message", "")
        return [
            {
                "group": "argoproj.io",
                "version": "v1alpha1",
                "kind": "Rollout",
                "namespace": NAMESPACE,
                "name": app.service,
                "status": "Synced" if in_sync else "OutOfSync",
                "health": {"status": health, "message": message},
            }
        ]

    # ---- endpoints --------------------------------------------------------------------------

    def do_session(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.tokens.discard(bearer_token(request) or "-")
            self.tokens.add(SANDBOX_TOKEN)
            return json_response({"token": ""})
        try:
            body = request_json(request)
        except ValueError:
            return rpc_error(400, 3, "the body must be a JSON object")
        if body.get("username") != "admin" or body.get("password") != ADMIN_PASSWORD:
            return rpc_error(401, 16, "Invalid username or password")
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return json_response({"token": token})

    def do_list(self, request: Request) -> Response:
        names = sorted(list(self.apps))
        if request.args.get("name"):
            names = [n for n in names if n == request.args["name"]]
        selector = request.args.get("selector", "")
        items = [self.application(self.apps[n]) for n in names]
        for term in filter(None, selector.split(",")):
            key, _, value = term.partition("=")
            items = [a for a in items if a["metadata"]["labels"].get(key.strip()) == value.strip()]
        data = {"metadata": {"resourceVersion": self.head[:12]}, "items": items}
        return json_response(project(data, request.args.get("fields", "")))

    def do_get(self, request: Request, name: str) -> Response:
        data = self.application(self.app_find(name))
        return json_response(project(data, request.args.get("fields", "")))

    def do_sync(self, request: Request, name: str) -> Response:
        app = self.app_find(name)
        try:
            body = request_json(request)
        except ValueError:
            return rpc_error(400, 3, "the body must be a JSON object")
        if app.operation and app.operation["phase"] == "Running":
            return rpc_error(400, 9, "another operation is already in progress")
        head, desired = gitops_repo(self.state).applications()
        revision = body.get("revision") or head
        if revision not in {head, "HEAD"}:
            return rpc_error(400, 3, f"revision {revision} is not HEAD of the GitOps repository")
        values = desired[(app.service, app.environment)]
        self.sync_start(app, values, head, time.time(), "manual")
        return json_response(self.application(app))

    def resource_check(self, request: Request, app: AppState) -> None:
        args = request.args
        if args.get("kind") != "Rollout" or args.get("resourceName") != app.service:
            raise NotFound()
        if args.get("group", "argoproj.io") != "argoproj.io":
            raise NotFound()

    def do_resource(self, request: Request, name: str) -> Response:
        app = self.app_find(name)
        self.resource_check(request, app)
        return json_response({"manifest": json.dumps(self.rollout(app))})

    def do_actions(self, request: Request, name: str) -> Response:
        app = self.app_find(name)
        self.resource_check(request, app)
        rollout = self.rollout(app)
        if request.method == "GET":
            actions = [{"name": n, "disabled": d} for n, d in rollout_actions(rollout)]
            return json_response({"actions": actions})
        try:
            body = json.loads(request.get_data() or b'""')
        except ValueError:
            return rpc_error(400, 3, "the body must be the action name as a JSON string")
        action = body.get("action") if isinstance(body, dict) else body
        try:
            patch = rollout_action_patch(rollout, str(action), time.time())
        except RolloutActionError as exc:
            return rpc_error(400, 9, str(exc))
        cluster = self.cluster(app)
        self.actions_run.append((app.name, str(action)))
        try:
            for part in ("spec", "status"):
                if part in patch:
                    body = json.dumps({part: patch[part]}).encode()
                    subresource = "status" if part == "status" else ""
                    cluster.patch(
                        "rollouts", NAMESPACE, app.service, MERGE_PATCH, body,
                        subresource=subresource,
                    )  # fmt: skip
        except KubeError as exc:
            return rpc_error(exc.code, 13, exc.message)
        return json_response({})

    def do_tree(self, request: Request, name: str) -> Response:
        app = self.app_find(name)
        cluster = self.cluster(app)
        nodes = live.tree_nodes(cluster, live.live_rollout(cluster, app.service))
        return json_response({"nodes": nodes})

    def ctl_app(self, request: Request, name: str) -> Response:
        body = request_json(request)
        with self.lock:
            self.refresh(time.time())
            app = self.app_find(name)
            if "automated" in body:
                app.automated = bool(body["automated"])
                self.due = 0.0  # a pending sync may be due at once
        return json_response({"name": name, "automated": app.automated})


READS = {"list", "get", "resource", "tree", "actions"}  # when asked with GET


def rpc_error(status: int, code: int, message: str) -> Response:
    return json_response({"error": message, "code": code, "message": message}, status)


def project(data: dict, fields: str) -> dict:
    """Keep only the dotted paths in `fields` (comma-separated), walking into lists."""
    paths = [p.strip().split(".") for p in fields.split(",") if p.strip()]
    if not paths:
        return data
    result: dict = {}
    for path in paths:
        _copy_path(data, result, path)
    return result


def _copy_path(source, target: dict, path: list[str]) -> None:
    key, rest = path[0], path[1:]
    if not isinstance(source, dict) or key not in source:
        return
    value = source[key]
    if not rest:
        target[key] = value
    elif isinstance(value, list):
        existing = target.setdefault(key, [{} for _ in value])
        for item, out in zip(value, existing, strict=True):
            _copy_path(item, out, rest)
    elif isinstance(value, dict):
        _copy_path(value, target.setdefault(key, {}), rest)


def create_app(state: SandboxState):
    sandbox = ArgoCDSandbox(state)
    state.shared["argocd"] = sandbox
    # Once every server is up (the Kubernetes one has seeded its clusters), apply the
    # repository's applications, so that kubectl shows them before anyone asks Argo CD.
    state.shared.setdefault("on_start", []).append(sandbox.start)
    state.shared.setdefault("on_stop", []).append(sandbox.stopped.set)
    return sandbox.wsgi()


register("argocd", create_app, "Argo CD REST: applications from the GitOps repo, Rollouts")
