"""The Argo Rollouts controller of a simulated cluster: Rollout objects stored in the cluster.

The stepping (canary weights, pauses, blue-green, abort, promote) is `sandbox/rollouts.py`'s,
applied to the stored objects; this module writes the results back through the store (the
status subresource, and the controller's bookkeeping annotations) and runs the pods: one
ReplicaSet per pod-template hash, owned by the Rollout, with as many pods as the strategy gives
that revision now (canary: the weight's share of the replicas, the rest stable; blue-green:
active and preview both full while they differ; aborted: stable only).
"""

import math

from .kube_store import clone, now_iso

ROLLOUT_HASH = "rollouts-pod-template-hash"


def rollout_advance(cluster, rollout: dict, now: float) -> bool:
    """Reconcile one stored Rollout at `now`; True when it has settled (nothing to wait for)."""
    from .rollouts import rollout_reconcile

    meta = rollout["metadata"]
    key = (meta["namespace"], meta["name"])
    work = rollout_reconcile(clone(rollout), now, cluster.rollout_scale())
    restart_at = work["spec"].get("restartAt")
    if restart_at and restart_at <= now_iso(now):
        work["status"]["restartedAt"] = restart_at  # its pods are replaced below
    store = cluster.store
    if work["metadata"].get("annotations") != meta.get("annotations"):
        fresh = store.get("rollouts", *key)
        fresh["metadata"]["annotations"] = work["metadata"]["annotations"]
        store.update("rollouts", *key, fresh, check_version=False)
    if work["status"] != rollout.get("status"):
        fresh = store.get("rollouts", *key)
        store.update(
            "rollouts", *key, fresh | {"status": work["status"]}, subresource="status",
            check_version=False,
        )  # fmt: skip
    converged = rollout_pods(cluster, work, now)
    status = work["status"]
    done = status.get("phase") in {"Healthy", "Degraded"} or (
        status.get("phase") == "Paused" and not _timed_pause(work)
    )
    return done and converged


def _timed_pause(rollout: dict) -> bool:
    from .rollouts import canary_steps

    steps = canary_steps(rollout)
    if steps is None:
        return rollout["spec"]["strategy"]["blueGreen"].get("autoPromotionSeconds") is not None
    index = int(rollout["status"].get("currentStepIndex", 0))
    step = steps[index] if index < len(steps) else {}
    return bool((step.get("pause") or {}).get("duration"))


def wanted_pods(rollout: dict) -> dict[str, int]:
    """Pods per pod-template hash that the Rollout's strategy asks for now."""
    spec, status = rollout["spec"], rollout.get("status") or {}
    replicas = spec.get("replicas", 1)
    stable, current = status.get("stableRS"), status.get("currentPodHash")
    if not current:
        return {}
    if not stable or stable == current:
        return {current: replicas}
    if "blueGreen" in (spec.get("strategy") or {}):
        return {stable: replicas, current: 0 if status.get("abort") else replicas}
    weights = (status.get("canary") or {}).get("weights") or {}
    weight = 0 if status.get("abort") else (weights.get("canary") or {}).get("weight", 0)
    canary = math.ceil(replicas * weight / 100)
    return {current: canary, stable: max(0, replicas - canary)}


def traffic_weights(rollout: dict) -> dict[str, int]:
    """Per pod-template hash, the percentage of requests it serves now."""
    status = rollout.get("status") or {}
    stable, current = status.get("stableRS"), status.get("currentPodHash")
    if not stable or stable == current:
        return {current: 100} if current else {}
    if "blueGreen" in (rollout["spec"].get("strategy") or {}):
        active = (status.get("blueGreen") or {}).get("activeSelector") or stable
        return {active: 100}
    weights = (status.get("canary") or {}).get("weights") or {}
    weight = 0 if status.get("abort") else (weights.get("canary") or {}).get("weight", 0)
    return {current: weight, stable: 100 - weight}


def rollout_pods(cluster, rollout: dict, now: float) -> bool:
    """Create and delete the Rollout's ReplicaSets' pods to match; True when all are ready."""
    from .kube_pods import replicaset_manifest

    meta = rollout["metadata"]
    namespace, uid = meta["namespace"], meta["uid"]
    store = cluster.store
    owned = {
        rs["metadata"]["labels"].get(ROLLOUT_HASH): rs
        for rs in store.list("replicasets", namespace, owner_uid=uid)
    }
    wanted = wanted_pods(rollout)
    current = (rollout.get("status") or {}).get("currentPodHash")
    if current and current not in owned:
        revision = meta.get("annotations", {}).get("rollout.argoproj.io/revision", "1")
        manifest = replicaset_manifest(rollout, current, int(revision))
        manifest["metadata"]["labels"][ROLLOUT_HASH] = current
        owned[current] = store.create("replicasets", namespace, manifest)
    converged = True
    restarted = (rollout.get("status") or {}).get("restartedAt", "")
    for pod_hash, rs in owned.items():
        count = wanted.get(pod_hash, 0)
        owner = ("rollouts", namespace, meta["name"])
        converged &= cluster.replicaset_run(rs, count, now, owner, older_than=restarted)
    return converged
