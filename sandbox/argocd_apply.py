"""What an Argo CD sync does to a cluster, and what Argo CD reads back from it.

An application's source is `apps/<service>/<environment>/values.yaml`; rendering it gives one
`argoproj.io/v1alpha1` Rollout named after the service (a rolling release is a canary without
steps), which a sync applies to the Kubernetes sandbox's cluster of that environment. Sync
status, health, images and the resource tree are all computed from the live objects there, so
Argo CD, kubectl and the portal's Kubernetes view see one world.
"""

from .kube_seed import _pod_template
from .kube_store import clone
from .rollouts import rollout_strategy

NAMESPACE = "default"
REPLICAS = 3
INSTANCE = "app.kubernetes.io/instance"  # Argo CD's tracking label
HEALTH = {"Progressing": "Progressing", "Paused": "Suspended", "Healthy": "Healthy"}


def image_of(values: dict) -> str:
    image = values.get("image") or {}
    return f"{image.get('repository', 'unknown')}:{image.get('tag', 'latest')}"


def render(app_name: str, service: str, values: dict) -> dict:
    """The Rollout an application's values.yaml describes."""
    template = _pod_template(service, image_of(values), "250m", "256Mi")
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {
            "name": service,
            "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/name": service, INSTANCE: app_name},
        },
        "spec": {
            "replicas": REPLICAS,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app.kubernetes.io/name": service}},
            "template": template,
            "strategy": rollout_strategy(service, values.get("rollout") or {}),
        },
    }


def apply(cluster, manifest: dict) -> dict:
    """Create the Rollout, or change its template and strategy (replicas stay: an HPA or a
    person may have scaled it)."""
    namespace, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
    with cluster.lock:
        live = cluster.store.find("rollouts", namespace, name)
        if live is None:
            return cluster.create("rollouts", namespace, manifest)
        new = clone(live)
        new["metadata"]["labels"] = {**(live["metadata"].get("labels") or {})}
        new["metadata"]["labels"].update(manifest["metadata"]["labels"])
        new["spec"]["template"] = clone(manifest["spec"]["template"])
        new["spec"]["strategy"] = clone(manifest["spec"]["strategy"])
        return cluster.update("rollouts", namespace, name, new)


def live_rollout(cluster, service: str) -> dict | None:
    with cluster.lock:
        cluster.advance()
        return cluster.store.find("rollouts", NAMESPACE, service)


def in_sync(live: dict | None, manifest: dict) -> bool:
    """Does the live Rollout have what the repository says (image and strategy)?"""
    if live is None:
        return False
    containers = live["spec"]["template"]["spec"].get("containers") or [{}]
    wanted = manifest["spec"]["template"]["spec"]["containers"][0]["image"]
    return containers[0].get("image") == wanted and (
        live["spec"].get("strategy") == manifest["spec"]["strategy"]
    )


def health(live: dict | None) -> tuple[str, str]:
    """Argo CD's health of a Rollout (its built-in health check for argoproj.io/Rollout)."""
    if live is None:
        return "Missing", "the Rollout does not exist in the cluster"
    status = live.get("status") or {}
    if status.get("abort") or status.get("phase") == "Degraded":
        return "Degraded", status.get("message", "")
    return HEALTH.get(status.get("phase"), "Progressing"), status.get("message", "")


def pods_of(cluster, live: dict) -> list[tuple[dict, list[dict]]]:
    """(ReplicaSet, its pods) for each ReplicaSet the Rollout owns."""
    namespace, uid = live["metadata"]["namespace"], live["metadata"]["uid"]
    with cluster.lock:
        return [
            (rs, cluster.store.list("pods", namespace, owner_uid=rs["metadata"]["uid"]))
            for rs in cluster.store.list("replicasets", namespace, owner_uid=uid)
        ]


def images(cluster, live: dict | None) -> list[str]:
    """The images of the live resources: the Rollout's template and every running pod."""
    if live is None:
        return []
    found = {c["image"] for c in live["spec"]["template"]["spec"].get("containers") or []}
    for _rs, pods in pods_of(cluster, live):
        found.update(c["image"] for pod in pods for c in pod["spec"].get("containers") or [])
    return sorted(found)


def _ref(obj: dict, group: str, version: str) -> dict:
    meta = obj["metadata"]
    ref = {"version": version, "kind": obj["kind"], "namespace": meta.get("namespace", "")}
    ref |= {"name": meta["name"], "uid": meta["uid"]}
    return ref | ({"group": group} if group else {})


def tree_nodes(cluster, live: dict | None) -> list[dict]:
    """The resource tree's nodes: the Rollout, its ReplicaSets and their pods (with images)."""
    if live is None:
        return []
    status, message = health(live)
    top = _ref(live, "argoproj.io", "v1alpha1")
    nodes = [
        top
        | {
            "resourceVersion": live["metadata"]["resourceVersion"],
            "health": {"status": status, "message": message},
            "images": images(cluster, live),
            "createdAt": live["metadata"]["creationTimestamp"],
        }
    ]
    for rs, pods in pods_of(cluster, live):
        rs_ref = _ref(rs, "apps", "v1")
        running = any(pods)
        rs_health = "Healthy" if running else "Suspended"
        nodes.append(
            rs_ref
            | {
                "parentRefs": [top],
                "resourceVersion": rs["metadata"]["resourceVersion"],
                "health": {"status": rs_health},
                "info": [{"name": "Revision", "value": _revision(rs)}],
                "images": [c["image"] for c in rs["spec"]["template"]["spec"]["containers"]],
                "createdAt": rs["metadata"]["creationTimestamp"],
            }
        )
        for pod in pods:
            nodes.append(_pod_node(pod, rs_ref))
    return nodes


def _revision(rs: dict) -> str:
    annotations = rs["metadata"].get("annotations") or {}
    return "Rev:" + annotations.get("deployment.kubernetes.io/revision", "")


def _pod_node(pod: dict, parent: dict) -> dict:
    phase = (pod.get("status") or {}).get("phase", "Pending")
    ready = phase == "Running"
    containers = pod["spec"].get("containers") or []
    return _ref(pod, "", "v1") | {
        "parentRefs": [parent],
        "resourceVersion": pod["metadata"]["resourceVersion"],
        "health": {"status": "Healthy" if ready else "Progressing"},
        "info": [
            {"name": "Status Reason", "value": phase},
            {"name": "Containers", "value": f"{len(containers) if ready else 0}/{len(containers)}"},
        ],
        "images": [c["image"] for c in containers],
        "createdAt": pod["metadata"]["creationTimestamp"],
    }
