"""A small Argo Rollouts controller: canary steps, pauses, promote, promote-full and abort.

It reads and writes the same fields as the real controller (status.currentStepIndex,
pauseConditions, controllerPause, abort, promoteFull, stableRS, currentPodHash and
canary.weights), so that whatever drives a Rollout here (kubectl-argo-rollouts style merge patches
on the status subresource, Argo CD resource actions) sees the behaviour it expects. Pods are not
simulated for Rollouts: replica counts follow spec.replicas and the canary weight.
"""

import copy
import hashlib
import json
import math

from .kube_store import now_iso, selector_string


def _weight_at(steps: list[dict], index: int) -> int:
    weight = 0
    for step in steps[:index]:
        if "setWeight" in step:
            weight = int(step["setWeight"])
    return weight


def reconcile_rollout(rollout: dict, now: float, step_at: float, step_delay: float):
    """Return (new status, whether a step was taken) for one Rollout at time `now`."""
    from .kube_cluster import parse_duration, template_hash

    spec = rollout["spec"]
    status = copy.deepcopy(rollout.get("status") or {})
    canary = (spec.get("strategy") or {}).get("canary") or {}
    steps = canary.get("steps") or []
    pod_hash = template_hash(spec.get("template") or {})
    at = now_iso(now)
    stepped = False
    status["currentStepHash"] = hashlib.sha256(json.dumps(steps).encode()).hexdigest()[:10]
    if not status.get("stableRS"):
        status.update(stableRS=pod_hash, currentPodHash=pod_hash, currentStepIndex=len(steps))
    elif status.get("currentPodHash") != pod_hash:
        for field in ("abort", "abortedAt", "pauseConditions", "controllerPause", "promoteFull"):
            status.pop(field, None)
        status.update(currentPodHash=pod_hash, currentStepIndex=0)
        stepped = True
    index = status.get("currentStepIndex") or 0
    if status["currentPodHash"] == status["stableRS"]:
        status.update(phase="Healthy", message="", currentStepIndex=len(steps))
        status.pop("promoteFull", None)
    elif status.get("abort"):
        status.setdefault("abortedAt", at)
        status.pop("pauseConditions", None)
        status.update(
            phase="Degraded",
            message=f"RolloutAborted: Rollout aborted update to revision {pod_hash}",
        )
    elif status.get("promoteFull") or index >= len(steps) and now - step_at >= step_delay:
        for field in ("promoteFull", "pauseConditions", "controllerPause"):
            status.pop(field, None)
        status.update(stableRS=pod_hash, currentStepIndex=len(steps), phase="Healthy", message="")
        stepped = True
    elif spec.get("paused"):
        status.update(phase="Paused", message="manually paused")
    elif status.get("pauseConditions"):
        duration = (steps[index].get("pause") or {}).get("duration") if index < len(steps) else None
        started = status["pauseConditions"][0].get("startTime")
        status.update(phase="Paused", message="CanaryPauseStep")
        if duration is not None and started and now - _epoch(started) >= parse_duration(duration):
            status.pop("pauseConditions")
            status.update(
                controllerPause=False,
                currentStepIndex=index + 1,
                phase="Progressing",
                message="more replicas need to be updated",
            )
            stepped = True
    elif status.get("controllerPause"):
        # Someone cleared the pause conditions (promote / resume): the pause step is done.
        status.update(
            controllerPause=False, currentStepIndex=index + 1, phase="Progressing", message=""
        )
        stepped = True
    elif index < len(steps) and now - step_at >= step_delay:
        step = steps[index]
        if "pause" in step:
            status.update(
                pauseConditions=[{"reason": "CanaryPauseStep", "startTime": at}],
                controllerPause=True,
                phase="Paused",
                message="CanaryPauseStep",
            )
        else:
            status.update(
                currentStepIndex=index + 1,
                phase="Progressing",
                message="more replicas need to be updated",
            )
        stepped = True
    elif status.get("phase") not in {"Progressing", "Paused"}:
        status.update(phase="Progressing", message="more replicas need to be updated")
    _counts(status, spec, steps)
    status["observedGeneration"] = str(rollout["metadata"].get("generation", 1))
    status["selector"] = selector_string(spec.get("selector"))
    restart_at = spec.get("restartAt")
    if restart_at and _epoch(restart_at) <= now:
        status["restartedAt"] = restart_at
    status["conditions"] = _conditions(status, rollout.get("status") or {}, at)
    return status, stepped


def _counts(status: dict, spec: dict, steps: list[dict]) -> None:
    replicas = spec.get("replicas", 1)
    promoted = status["currentPodHash"] == status["stableRS"]
    weight = 100 if promoted else _weight_at(steps, status.get("currentStepIndex") or 0)
    if status.get("abort"):
        weight = 0
    canary_pods = replicas if promoted else math.ceil(replicas * weight / 100)
    stable_pods = 0 if promoted else replicas
    status["canary"] = {
        "weights": {
            "canary": {"podTemplateHash": status["currentPodHash"], "weight": weight},
            "stable": {"podTemplateHash": status["stableRS"], "weight": 100 - weight},
        }
    }
    status.update(
        replicas=canary_pods + stable_pods,
        updatedReplicas=canary_pods,
        readyReplicas=canary_pods + stable_pods,
        availableReplicas=canary_pods + stable_pods,
        HPAReplicas=replicas,
    )


def _conditions(status: dict, old: dict, at: str) -> list[dict]:
    previous = {c["type"]: c for c in old.get("conditions") or []}
    healthy = status["phase"] == "Healthy"
    paused = status["phase"] == "Paused"
    wanted = [
        ("Available", True, "AvailableReason", "Rollout has minimum availability"),
        (
            "Progressing",
            True,
            "NewReplicaSetAvailable" if healthy else "ReplicaSetUpdated",
            "Rollout is healthy" if healthy else "Rollout is progressing",
        ),
        ("Paused", paused, "RolloutPaused" if paused else "RolloutResumed", status["message"]),
        ("Healthy", healthy, "RolloutHealthy" if healthy else "RolloutHealthyIncomplete", ""),
    ]
    conditions = []
    for kind, value, reason, message in wanted:
        text = "True" if value else "False"
        old_condition = previous.get(kind)
        same = old_condition and old_condition["status"] == text
        conditions.append(
            {
                "type": kind,
                "status": text,
                "reason": reason,
                "message": message,
                "lastUpdateTime": at,
                "lastTransitionTime": old_condition["lastTransitionTime"] if same else at,
            }
        )
        if same and old_condition["reason"] == reason and old_condition["message"] == message:
            conditions[-1]["lastUpdateTime"] = old_condition["lastUpdateTime"]
    return conditions


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
