"""Who serves a service's requests now, read from the Kubernetes sandbox's clusters.

A Rollout's traffic is split between its revisions as `sandbox/kube_rollouts.traffic_weights`
says (canary weight, blue-green active side, stable after an abort); a plain Deployment sends all
requests to the version its ready pods run. The Prometheus sandbox multiplies a service's request
rate by these shares, so its series describe what actually runs.
"""

from .argocd_apply import NAMESPACE
from .kube_rollouts import traffic_weights


def _tag(template: dict) -> str:
    containers = (template.get("spec") or {}).get("containers") or [{}]
    return containers[0].get("image", "").rpartition(":")[2]


def _rollout_shares(cluster, rollout: dict) -> dict[str, float]:
    namespace, uid = rollout["metadata"]["namespace"], rollout["metadata"]["uid"]
    versions = {
        rs["metadata"]["labels"].get("pod-template-hash"): _tag(rs["spec"]["template"])
        for rs in cluster.store.list("replicasets", namespace, owner_uid=uid)
    }
    shares: dict[str, float] = {}
    for pod_hash, weight in traffic_weights(rollout).items():
        version = versions.get(pod_hash) or _tag(rollout["spec"]["template"])
        if weight:
            shares[version] = shares.get(version, 0.0) + weight / 100
    return shares


def _deployment_shares(cluster, deployment: dict) -> dict[str, float]:
    namespace = deployment["metadata"]["namespace"]
    selector = ",".join(
        f"{k}={v}" for k, v in (deployment["spec"]["selector"].get("matchLabels") or {}).items()
    )
    counts: dict[str, int] = {}
    for pod in cluster.store.list("pods", namespace, selector):
        if (pod.get("status") or {}).get("phase") == "Running":
            version = _tag({"spec": pod["spec"]})
            counts[version] = counts.get(version, 0) + 1
    total = sum(counts.values())
    return {version: count / total for version, count in counts.items()} if total else {}


def traffic_many(clusters, services, environment: str = "") -> dict[str, dict | None]:
    """{service: {environment: {version: share of requests}}}, None for a service no cluster
    runs a workload of (the caller then keeps its own synthetic view). Each cluster is moved on
    once: one query about many canaries costs one pass over the clusters, not one per service."""
    if clusters is None:
        return dict.fromkeys(services)
    found: dict[str, dict] = {service: {} for service in services}
    for cluster in clusters.all():
        if environment and cluster.name != environment:
            continue
        with cluster.lock:
            cluster.advance()
            for service in services:
                rollout = cluster.store.find("rollouts", NAMESPACE, service)
                deployment = cluster.store.find("deployments", NAMESPACE, service)
                if rollout is not None:
                    found[service][cluster.name] = _rollout_shares(cluster, rollout)
                elif deployment is not None:
                    found[service][cluster.name] = _deployment_shares(cluster, deployment)
    return {service: shares or None for service, shares in found.items()}
