"""The Kubernetes sandbox: the real Kubernetes REST API on loopback, one cluster per environment.

Each cluster lives under its own path prefix, `http://127.0.0.1:PORT/clusters/<environment>`,
and `.sandbox/kubeconfig` names one context per environment, so kubectl and the official
`kubernetes` client talk to it unchanged. See docs/kubernetes-sandbox.md.
"""

import json
import logging
import threading
import time
from pathlib import Path

import yaml
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kube_api import (
    SERVER_VERSION,
    api_group,
    api_group_list,
    api_resource_list,
    api_versions,
    list_kind,
    table,
)
from .kube_cluster import Cluster
from .kube_store import BY_PLURAL, KubeError
from .registry import SandboxState, register
from .web import time_scale

logger = logging.getLogger(__name__)

WATCH_POLL_SECONDS = 0.25


class ClusterSet:
    """The simulated clusters of one sandbox, and the kubeconfig that points at them."""

    def __init__(
        self, base_url: str, kubeconfig: Path | None = None, *, ready_delay=2.0, time_scale=None
    ):
        self.base_url = base_url.rstrip("/")
        self.kubeconfig = kubeconfig
        self.ready_delay = ready_delay
        self.time_scale = time_scale
        self._clusters: dict[str, Cluster] = {}
        self._contexts: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def add(self, name: str, *, context: str = "", namespace: str = "default") -> Cluster:
        """Create the cluster for environment `name` (idempotent) and rewrite the kubeconfig."""
        with self._lock:
            if name not in self._clusters:
                self._clusters[name] = Cluster(
                    name, ready_delay=self.ready_delay, time_scale=self.time_scale
                )
                self._contexts[name] = (context or name, namespace)
            cluster = self._clusters[name]
        self.write_kubeconfig()
        return cluster

    def get(self, name: str) -> Cluster:
        return self._clusters[name]

    def ensure(self, name: str) -> Cluster:
        """The cluster of environment `name`, created (namespace default) when missing."""
        return self._clusters.get(name) or self.add(name)

    def all(self) -> list[Cluster]:
        return list(self._clusters.values())

    def server(self, name: str) -> str:
        return f"{self.base_url}/clusters/{name}"

    def kubeconfig_dict(self) -> dict:
        clusters, contexts = [], []
        for name, (context, namespace) in sorted(self._contexts.items()):
            clusters.append({"name": f"sandbox-{name}", "cluster": {"server": self.server(name)}})
            contexts.append(
                {
                    "name": context,
                    "context": {
                        "cluster": f"sandbox-{name}",
                        "user": "sandbox",
                        "namespace": namespace,
                    },
                }
            )
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": clusters,
            "contexts": contexts,
            "current-context": contexts[0]["name"] if contexts else "",
            "users": [{"name": "sandbox", "user": {}}],
        }

    def write_kubeconfig(self) -> None:
        if self.kubeconfig is None:
            return
        self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.kubeconfig.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(self.kubeconfig_dict(), sort_keys=False))
        tmp.replace(self.kubeconfig)


URLS = Map(
    [
        Rule("/clusters/<cluster>/version", endpoint="version"),
        Rule("/clusters/<cluster>/api", endpoint="api"),
        Rule("/clusters/<cluster>/apis", endpoint="apis"),
        Rule("/clusters/<cluster>/api/v1", endpoint="core_resources"),
        Rule("/clusters/<cluster>/apis/<group>", endpoint="group"),
        Rule("/clusters/<cluster>/apis/<group>/<version>", endpoint="group_resources"),
        Rule("/clusters/<cluster>/api/v1/<path:rest>", endpoint="core_object"),
        Rule("/clusters/<cluster>/apis/<group>/<version>/<path:rest>", endpoint="group_object"),
    ],
    strict_slashes=False,
)


def _json(body: dict, code: int = 200) -> Response:
    return Response(json.dumps(body), status=code, mimetype="application/json")


def _error(exc: KubeError) -> Response:
    return _json(exc.status(), exc.code)


def _parse_object_path(group_version: str, rest: str):
    """`namespaces/ns/deployments/name/scale` -> (plural, namespace, name, subresource)."""
    parts = rest.strip("/").split("/")
    namespace = None
    if parts[0] == "namespaces" and len(parts) >= 3 and parts[2] in BY_PLURAL:
        namespace, parts = parts[1], parts[2:]
    plural = parts[0]
    rtype = BY_PLURAL.get(plural)
    if rtype is None or rtype.group_version != group_version or len(parts) > 3:
        raise KubeError(404, "NotFound", "the server could not find the requested resource")
    if rtype.namespaced and namespace is None and len(parts) > 1:
        raise KubeError(404, "NotFound", "the server could not find the requested resource")
    name = parts[1] if len(parts) > 1 else ""
    sub = parts[2] if len(parts) > 2 else ""
    if sub and sub not in rtype.subresources:
        raise KubeError(404, "NotFound", "the server could not find the requested resource")
    return plural, namespace or "", name, sub


class KubernetesApp:
    """WSGI application: routes a request to its cluster and answers like the API server."""

    def __init__(self, clusters: ClusterSet):
        self.clusters = clusters

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except KubeError as exc:
            response = _error(exc)
        except HTTPException as exc:
            response = _error(KubeError(exc.code or 500, "NotFound", exc.description or ""))
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        endpoint, args = URLS.bind_to_environ(request.environ).match()
        try:
            cluster = self.clusters.get(args.pop("cluster"))
        except KeyError:
            raise KubeError(404, "NotFound", "no such cluster in this sandbox") from None
        if endpoint == "version":
            return _json(SERVER_VERSION)
        if endpoint == "api":
            return _json(api_versions(request.host))
        if endpoint == "apis":
            return _json(api_group_list())
        if endpoint == "group":
            if not any(g["name"] == args["group"] for g in api_group_list()["groups"]):
                raise KubeError(404, "NotFound", "the server could not find the requested resource")
            return _json({"kind": "APIGroup", "apiVersion": "v1", **api_group(args["group"])})
        if endpoint in {"core_resources", "group_resources"}:
            group_version = f"{args['group']}/{args['version']}" if args else "v1"
            found = api_resource_list(group_version)
            if found is None:
                raise KubeError(404, "NotFound", "the server could not find the requested resource")
            return _json(found)
        group_version = "v1" if endpoint == "core_object" else f"{args['group']}/{args['version']}"
        plural, namespace, name, sub = _parse_object_path(group_version, args["rest"])
        with cluster.lock:
            cluster.advance()
        if not name:
            return self.collection(request, cluster, plural, namespace)
        return self.item(request, cluster, plural, namespace, name, sub)

    def collection(self, request: Request, cluster: Cluster, plural, namespace) -> Response:
        args = request.args
        if request.method == "GET" and args.get("watch") in {"true", "1"}:
            return self.watch(request, cluster, plural, namespace)
        if request.method == "GET":
            with cluster.lock:
                items = cluster.store.list(
                    plural, namespace, args.get("labelSelector", ""), args.get("fieldSelector", "")
                )
                version = cluster.store.resource_version
            if "as=Table" in request.headers.get("Accept", ""):
                return _json(table(plural, items, version, args.get("includeObject", "Metadata")))
            rtype = BY_PLURAL[plural]
            return _json(
                {
                    "kind": list_kind(plural),
                    "apiVersion": rtype.group_version,
                    "metadata": {"resourceVersion": version},
                    "items": items,
                }
            )
        if request.method == "POST":
            body = self._body(request)
            if args.get("dryRun"):
                return _json(body, 201)
            return _json(cluster.create(plural, namespace, body), 201)
        raise KubeError(405, "MethodNotAllowed", f"{request.method} is not supported here")

    def item(self, request: Request, cluster: Cluster, plural, namespace, name, sub) -> Response:
        method = request.method
        if sub == "scale":
            if method == "GET":
                return _json(cluster.scale(plural, namespace, name))
            if method == "PUT":
                return _json(cluster.scale_update(plural, namespace, name, self._body(request)))
            if method == "PATCH":
                content_type = request.headers.get("Content-Type", "")
                patched = cluster.scale_patch(plural, namespace, name, content_type, request.data)
                return _json(patched)
        elif method == "GET":
            obj = cluster.store.get(plural, namespace, name)
            if "as=Table" in request.headers.get("Accept", ""):
                version = obj["metadata"]["resourceVersion"]
                include = request.args.get("includeObject", "Metadata")
                return _json(table(plural, [obj], version, include))
            return _json(obj)
        elif method == "PUT":
            return _json(
                cluster.update(plural, namespace, name, self._body(request), subresource=sub)
            )
        elif method == "PATCH":
            content_type = request.headers.get("Content-Type", "")
            return _json(
                cluster.patch(plural, namespace, name, content_type, request.data, subresource=sub)
            )
        elif method == "DELETE" and not sub:
            deleted = cluster.delete(plural, namespace, name)
            if plural == "pods":
                return _json(deleted)
            rtype = BY_PLURAL[plural]
            details = {"name": name, "kind": plural, "uid": deleted["metadata"]["uid"]}
            details |= {"group": rtype.group} if rtype.group else {}
            return _json(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": details,
                }
            )
        raise KubeError(405, "MethodNotAllowed", f"{method} is not supported on this resource")

    def _body(self, request: Request) -> dict:
        try:
            body = json.loads(request.data or b"null")
        except ValueError as exc:
            raise KubeError(
                400, "BadRequest", f"the request body is not valid JSON: {exc}"
            ) from exc
        if not isinstance(body, dict):
            raise KubeError(400, "BadRequest", "the request body must be a JSON object")
        return body

    def watch(self, request: Request, cluster: Cluster, plural: str, namespace: str) -> Response:
        """A chunked stream of watch events; converges the cluster while it waits."""
        args = request.args
        labels, fields = args.get("labelSelector", ""), args.get("fieldSelector", "")
        deadline = time.time() + min(float(args.get("timeoutSeconds") or 1800), 1800)
        initial = args.get("sendInitialEvents") == "true" or args.get("resourceVersion") in (
            None,
            "",
            "0",
        )
        with cluster.lock:
            start = cluster.store.resource_version
            current = cluster.store.list(plural, namespace, labels, fields) if initial else []
            since = int(start if initial else args["resourceVersion"])
            cluster.store.events_since(since, plural)  # 410 Gone when too old

        def wanted(obj: dict) -> bool:
            from .kube_store import field_selector_matches, label_selector_matches

            meta = obj["metadata"]
            return (
                namespace in ("", meta.get("namespace"))
                and label_selector_matches(labels, meta.get("labels") or {})
                and field_selector_matches(fields, obj)
            )

        def stream():
            revision = since
            for obj in current:
                yield json.dumps({"type": "ADDED", "object": obj}).encode() + b"\n"
            if args.get("sendInitialEvents") == "true":
                rtype = BY_PLURAL[plural]
                bookmark = {
                    "kind": rtype.kind,
                    "apiVersion": rtype.group_version,
                    "metadata": {
                        "resourceVersion": start,
                        "annotations": {"k8s.io/initial-events-end": "true"},
                    },
                }
                yield json.dumps({"type": "BOOKMARK", "object": bookmark}).encode() + b"\n"
            while time.time() < deadline:
                with cluster.store.changed:
                    cluster.advance()
                    events = cluster.store.events_since(revision, plural)
                    if not events:
                        cluster.store.changed.wait(WATCH_POLL_SECONDS)
                        continue
                for rv, kind, obj in events:
                    revision = rv
                    if wanted(obj):
                        yield json.dumps({"type": kind, "object": obj}).encode() + b"\n"

        return Response(stream(), mimetype="application/json", direct_passthrough=True)


_CLUSTERS_LOCK = threading.Lock()


def cluster_set(state: SandboxState) -> ClusterSet:
    """The clusters of this sandbox, shared by the Kubernetes and Argo CD servers (Argo CD
    applies to them even when the Kubernetes API server itself was not started)."""
    with _CLUSTERS_LOCK:
        clusters = state.shared.get("kubernetes")
        if clusters is None:
            served = "kubernetes" in state.endpoints
            clusters = ClusterSet(
                state.endpoints.get("kubernetes", "http://127.0.0.1:0"),
                state.directory / "kubeconfig" if served else None,
                time_scale=lambda: time_scale(state),
            )
            state.shared["kubernetes"] = clusters
        return clusters


def create_app(state: SandboxState) -> KubernetesApp:
    """Sandbox factory: clusters seeded from the catalog (unless turned off) and a kubeconfig.
    Workloads of the applications in the GitOps repository are left to Argo CD to apply."""
    from django.conf import settings
    from django.db import DatabaseError

    from .gitops import gitops_repo
    from .kube_seed import seed_from_catalog

    clusters = cluster_set(state)
    if getattr(settings, "SANDBOX_KUBERNETES_SEED", True):
        try:
            # Argo CD applies the workloads of the repository's applications itself.
            managed = gitops_repo(state).applications()[1] if "argocd" in state.endpoints else {}
            count = seed_from_catalog(clusters, managed=set(managed))
        except DatabaseError as exc:  # not migrated yet: serve empty clusters, say why
            logger.warning("kubernetes sandbox: catalog unreadable (%s); no clusters seeded", exc)
        else:
            logger.info(
                "kubernetes sandbox: %s services in %s clusters", count, len(clusters.all())
            )
    clusters.write_kubeconfig()
    return KubernetesApp(clusters)


register(
    "kubernetes",
    create_app,
    "Kubernetes API (Deployments, ReplicaSets, Pods, HPAs, ConfigMaps, Secrets, Argo Rollouts), "
    "one cluster per environment; writes .sandbox/kubeconfig",
)
