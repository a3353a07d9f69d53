"""Discovery documents and server-side `Table` rendering, as the API server answers kubectl."""

import time
from datetime import datetime

from .kube_store import BY_PLURAL, RESOURCE_TYPES, ResourceType

SERVER_VERSION = {
    "major": "1",
    "minor": "35",
    "emulationMajor": "1",
    "emulationMinor": "35",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "34",
    "gitVersion": "v1.35.0-switchyard-sandbox",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-12-17T00:00:00Z",
    "goVersion": "go1.25.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def group_versions() -> dict[str, list[ResourceType]]:
    result: dict[str, list[ResourceType]] = {}
    for rtype in RESOURCE_TYPES:
        result.setdefault(rtype.group_version, []).append(rtype)
    return result


def api_versions(server: str) -> dict:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}],
    }


def api_group(group: str) -> dict:
    versions = [gv for gv in group_versions() if gv.startswith(f"{group}/")]
    entries = [{"groupVersion": gv, "version": gv.split("/")[1]} for gv in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def api_group_list() -> dict:
    groups = sorted({rt.group for rt in RESOURCE_TYPES if rt.group})
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [api_group(group) for group in groups],
    }


def api_resource_list(group_version: str) -> dict | None:
    types = group_versions().get(group_version)
    if types is None:
        return None
    resources = []
    for rtype in types:
        entry = {
            "name": rtype.plural,
            "singularName": rtype.singular,
            "namespaced": rtype.namespaced,
            "kind": rtype.kind,
            "verbs": VERBS,
        }
        if rtype.short_names:
            entry["shortNames"] = list(rtype.short_names)
        if rtype.categories:
            entry["categories"] = list(rtype.categories)
        resources.append(entry)
        for sub in rtype.subresources:
            kind, group, version = rtype.kind, rtype.group, rtype.version
            if sub == "scale":
                kind, group, version = "Scale", "autoscaling", "v1"
            resources.append(
                {
                    "name": f"{rtype.plural}/{sub}",
                    "singularName": "",
                    "namespaced": rtype.namespaced,
                    "group": group,
                    "version": version,
                    "kind": kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


def age(stamp: str | None, now: float | None = None) -> str:
    """The API server's short human duration: 45s, 5m30s, 3h, 2d4h, 120d, 3y."""
    if not stamp:
        return "<unknown>"
    then = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    seconds = max(0, int((time.time() if now is None else now) - then))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


def _column(name: str, kind: str = "string", priority: int = 0, fmt: str = "") -> dict:
    return {"name": name, "type": kind, "format": fmt, "description": name, "priority": priority}


def _containers(obj: dict) -> tuple[str, str]:
    containers = obj["spec"]["template"]["spec"].get("containers") or []
    return ",".join(c["name"] for c in containers), ",".join(c["image"] for c in containers)


def _pod_cells(pod: dict) -> list:
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    ready = sum(1 for c in containers if c.get("ready"))
    restarts = sum(c.get("restartCount", 0) for c in containers)
    finished = [
        c["lastState"]["terminated"].get("finishedAt")
        for c in containers
        if (c.get("lastState") or {}).get("terminated")
    ]
    restart_cell = f"{restarts} ({age(max(finished))} ago)" if restarts and finished else restarts
    waiting = [c["state"]["waiting"].get("reason") for c in containers if "waiting" in c["state"]]
    phase = waiting[0] if waiting else status.get("phase", "Unknown")
    return [
        f"{ready}/{len(pod['spec'].get('containers') or [])}",
        phase,
        restart_cell,
        age(pod["metadata"].get("creationTimestamp")),
        status.get("podIP", "<none>"),
        pod["spec"].get("nodeName", "<none>"),
        "<none>",
        "<none>",
    ]


def _hpa_targets(hpa: dict) -> str:
    current = {
        m["resource"]["name"]: m["resource"]["current"].get("averageUtilization")
        for m in (hpa.get("status") or {}).get("currentMetrics") or []
        if m.get("type") == "Resource"
    }
    parts = []
    for metric in hpa["spec"].get("metrics") or []:
        resource = metric.get("resource") or {}
        target = (resource.get("target") or {}).get("averageUtilization")
        value = current.get(resource.get("name"))
        shown = f"{value}%" if value is not None else "<unknown>"
        parts.append(f"{resource.get('name')}: {shown}/{target}%")
    return ", ".join(parts) or "<none>"


def table_columns(plural: str) -> list[dict]:
    name = _column("Name", fmt="name")
    columns = {
        "deployments": [
            name,
            _column("Ready"),
            _column("Up-to-date", "integer"),
            _column("Available", "integer"),
            _column("Age"),
            _column("Containers", priority=1),
            _column("Images", priority=1),
            _column("Selector", priority=1),
        ],
        "replicasets": [
            name,
            _column("Desired", "integer"),
            _column("Current", "integer"),
            _column("Ready", "integer"),
            _column("Age"),
            _column("Containers", priority=1),
            _column("Images", priority=1),
            _column("Selector", priority=1),
        ],
        "pods": [
            name,
            _column("Ready"),
            _column("Status"),
            _column("Restarts"),
            _column("Age"),
            _column("IP", priority=1),
            _column("Node", priority=1),
            _column("Nominated Node", priority=1),
            _column("Readiness Gates", priority=1),
        ],
        "horizontalpodautoscalers": [
            name,
            _column("Reference"),
            _column("Targets"),
            _column("MinPods", "integer"),
            _column("MaxPods", "integer"),
            _column("Replicas", "integer"),
            _column("Age"),
        ],
        "configmaps": [name, _column("Data", "integer"), _column("Age")],
        "services": [
            name,
            _column("Type"),
            _column("Cluster-IP"),
            _column("Ports"),
            _column("Age"),
        ],
        "jobs": [name, _column("Status"), _column("Completions"), _column("Age")],
        "secrets": [name, _column("Type"), _column("Data", "integer"), _column("Age")],
        "namespaces": [name, _column("Status"), _column("Age")],
        "rollouts": [
            name,
            _column("Desired", "integer"),
            _column("Current", "integer"),
            _column("Up-to-date", "integer"),
            _column("Available", "integer"),
            _column("Age"),
        ],
    }
    return columns[plural]


def table_cells(plural: str, obj: dict) -> list:
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    created = age(meta.get("creationTimestamp"))
    if plural == "deployments":
        containers, images = _containers(obj)
        from .kube_store import selector_string

        return [
            meta["name"],
            f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            status.get("updatedReplicas", 0),
            status.get("availableReplicas", 0),
            created,
            containers,
            images,
            selector_string(spec.get("selector")),
        ]
    if plural == "replicasets":
        containers, images = _containers(obj)
        from .kube_store import selector_string

        return [
            meta["name"],
            spec.get("replicas", 0),
            status.get("replicas", 0),
            status.get("readyReplicas", 0),
            created,
            containers,
            images,
            selector_string(spec.get("selector")),
        ]
    if plural == "pods":
        return [meta["name"], *_pod_cells(obj)[:3], created, *_pod_cells(obj)[4:]]
    if plural == "horizontalpodautoscalers":
        ref = spec.get("scaleTargetRef") or {}
        return [
            meta["name"],
            f"{ref.get('kind')}/{ref.get('name')}",
            _hpa_targets(obj),
            spec.get("minReplicas", 1),
            spec.get("maxReplicas"),
            status.get("currentReplicas", 0),
            created,
        ]
    if plural == "configmaps":
        return [
            meta["name"],
            len(obj.get("data") or {}) + len(obj.get("binaryData") or {}),
            created,
        ]
    if plural == "secrets":
        return [meta["name"], obj.get("type", "Opaque"), len(obj.get("data") or {}), created]
    if plural == "namespaces":
        return [meta["name"], status.get("phase", "Active"), created]
    if plural == "services":
        ports = ",".join(
            f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []
        )
        return [meta["name"], spec.get("type", "ClusterIP"), "<none>", ports or "<none>", created]
    if plural == "jobs":
        done = status.get("succeeded", 0)
        return [meta["name"], "Complete" if done else "Running", f"{done}/1", created]
    return [
        meta["name"],
        spec.get("replicas", 1),
        status.get("replicas", 0),
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        created,
    ]


def table(plural: str, items: list[dict], resource_version: str, include_object: str) -> dict:
    rows = []
    for obj in items:
        row = {"cells": table_cells(plural, obj)}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj["metadata"],
            }
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": table_columns(plural),
        "rows": rows,
    }


def list_kind(plural: str) -> str:
    return f"{BY_PLURAL[plural].kind}List"
