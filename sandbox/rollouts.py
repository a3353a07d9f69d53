"""A small Argo Rollouts controller over `argoproj.io/v1alpha1` Rollout objects (plain dicts).

The Rollouts live in the Kubernetes sandbox's clusters (`sandbox/kube_rollouts.py` applies
`rollout_reconcile` to the stored objects and runs their pods); Argo CD's resource actions and
`kubectl` patches act on those same objects.

Behaviour (durations multiplied by the sandbox time scale):
- a changed pod template starts a new revision at step 0; the very first revision is stable at once;
- canary `setWeight` steps take READY_SECONDS for the pods to become ready, then the actual
  weight (`status.canary.weights.canary.weight`) follows;
- `pause: {}` waits until resumed (pause conditions cleared, as Argo CD's `resume` does);
  `pause: {duration: 10s}` resumes by itself;
- blue-green brings the preview up, pauses (BlueGreenPause) unless autoPromotionEnabled, then
  switches the active selector on resume or promote;
- `status.abort` puts all traffic back on stable: phase Degraded, message RolloutAborted;
  clearing it (`retry`) starts the revision again from step 0.
"""

import copy
import hashlib
import json
import math
import re
import time
from datetime import UTC, datetime

from .kube_store import selector_string
from .web import rfc3339

READY_SECONDS = 1.0
STEP_STARTED = "sandbox.switchyard.dev/step-started-at"
STEP_INDEX = "sandbox.switchyard.dev/step-index"
ABORTED = "sandbox.switchyard.dev/aborted"
REVISION = "rollout.argoproj.io/revision"
ACTIONS = ("resume", "restart", "abort", "retry", "pause", "promote-full", "skip-current-step")


class RolloutActionError(ValueError):
    pass


def parse_duration(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, int):
        return float(value)
    match = re.fullmatch(r"(\d+)([smh]?)", str(value))
    if not match:
        return None
    return int(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]


def merge_patch(target: dict, patch: dict) -> dict:
    """RFC 7386 JSON merge patch, in place."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def template_hash(obj: dict) -> str:
    raw = json.dumps(obj["spec"]["template"], sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()[:10]


def rollout_new(*, namespace: str, name: str, image: str, config: dict, replicas: int = 4):
    now = time.time()
    obj = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": hashlib.sha256(f"{namespace}/{name}/{now}".encode()).hexdigest()[:32],
            "generation": 1,
            "resourceVersion": "1",
            "creationTimestamp": rfc3339(now),
            "labels": {"app.kubernetes.io/name": name},
            "annotations": {REVISION: "0"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
        "status": {},
    }
    rollout_set_desired(obj, image=image, config=config)
    return obj


def rollout_set_desired(obj: dict, *, image: str, config: dict) -> None:
    """Set image and strategy from a values.yaml `rollout:` block; bumps generation on change."""
    spec = obj["spec"]
    before = json.dumps([spec["template"], spec.get("strategy")], sort_keys=True)
    spec["template"]["spec"]["containers"][0]["image"] = image
    spec["strategy"] = rollout_strategy(obj["metadata"]["name"], config)
    if json.dumps([spec["template"], spec.get("strategy")], sort_keys=True) != before:
        obj["metadata"]["generation"] += 1


def rollout_strategy(name: str, config: dict) -> dict:
    """spec.strategy from a values.yaml `rollout:` block (rolling: a canary without steps)."""
    if config.get("strategy") == "bluegreen":
        return {
            "blueGreen": {
                "activeService": f"{name}-active",
                "previewService": f"{name}-preview",
                "autoPromotionEnabled": bool(config.get("autoPromotionEnabled", False)),
            }
        }
    return {"canary": {"steps": list(config.get("steps") or [])}}


def canary_steps(obj: dict) -> list[dict] | None:
    canary = obj["spec"].get("strategy", {}).get("canary")
    return None if canary is None else list(canary.get("steps") or [])


def rollout_reconcile(obj: dict, now: float, scale: float = 1.0) -> dict:
    """Move the Rollout forward to `now`, in place; returns it."""
    status = obj.setdefault("status", {})
    annotations = obj["metadata"].setdefault("annotations", {})
    current = template_hash(obj)
    if status.get("currentPodHash") != current:
        _revision_start(obj, current, now)
    started = float(annotations.get(STEP_STARTED, now))
    if annotations.get(STEP_INDEX) != str(status.get("currentStepIndex", 0)):
        started = now  # the step was changed from outside (skip, promote)
    if status.get("abort"):
        _aborted(obj, now)
    elif annotations.pop(ABORTED, None):
        status.update(currentStepIndex=0, phase="Progressing", message="")
        status.pop("abortedAt", None)
        started = now
        _mid_update(obj, now, started, scale)
    elif status.get("stableRS") == current:
        _healthy(obj)
    elif status.get("promoteFull"):
        _complete(obj)
    else:
        _mid_update(obj, now, started, scale)
    _replicas(obj)
    obj["status"]["observedGeneration"] = str(obj["metadata"]["generation"])
    return obj


def _revision_start(obj: dict, current: str, now: float) -> None:
    status, annotations = obj["status"], obj["metadata"]["annotations"]
    annotations[REVISION] = str(int(annotations.get(REVISION, "0")) + 1)
    annotations.pop(ABORTED, None)
    for key in ("abort", "abortedAt", "promoteFull", "pauseConditions", "controllerPause"):
        status.pop(key, None)
    status.update(currentPodHash=current, currentStepIndex=0, phase="Progressing", message="")
    status["selector"] = selector_string(obj["spec"].get("selector"))
    annotations[STEP_STARTED], annotations[STEP_INDEX] = str(now), "0"
    if not status.get("stableRS"):
        status["stableRS"] = current
        status["currentStepIndex"] = len(canary_steps(obj) or [])


def _mid_update(obj: dict, now: float, started: float, scale: float) -> None:
    status = obj["status"]
    if obj["spec"].get("paused"):
        status.update(phase="Paused", message="manually paused")
        return
    steps = canary_steps(obj)
    if steps is None:
        _blue_green(obj, now, started, scale)
        return
    ready = READY_SECONDS * scale
    index = int(status.get("currentStepIndex", 0))
    while index < len(steps):
        step = steps[index]
        if "setWeight" in step:
            if now - started < ready:
                break
            _weights(obj, int(step["setWeight"]))
            index, started = index + 1, started + ready
        elif "pause" in step:
            waited = _pause(obj, now, started, scale, (step["pause"] or {}).get("duration"))
            if waited is None:
                break
            index, started = index + 1, waited
        else:
            index += 1
    status["currentStepIndex"] = index
    annotations = obj["metadata"]["annotations"]
    annotations[STEP_STARTED], annotations[STEP_INDEX] = str(started), str(index)
    if index >= len(steps) and now - started >= ready:
        _complete(obj)
    elif not status.get("pauseConditions"):
        status.update(phase="Progressing", message="more replicas need to be updated")


def _pause(obj, now, started, scale, duration, reason="CanaryPauseStep") -> float | None:
    """None while paused; else when the pause ended (resumed by a person or by its timer)."""
    status = obj["status"]
    if not status.get("pauseConditions") and not status.get("controllerPause"):
        status["pauseConditions"] = [{"reason": reason, "startTime": rfc3339(started)}]
        status["controllerPause"] = True
    seconds = parse_duration(duration)
    if status.get("pauseConditions"):
        if seconds is not None and now - started >= seconds * scale:
            status.pop("pauseConditions", None)
            status.pop("controllerPause", None)
            return started + seconds * scale
        status.update(phase="Paused", message=reason)
        return None
    status.pop("controllerPause", None)  # resumed: conditions cleared by a person
    return now


def _blue_green(obj: dict, now: float, started: float, scale: float) -> None:
    status, strategy = obj["status"], obj["spec"]["strategy"]["blueGreen"]
    blue_green = status.setdefault("blueGreen", {})
    blue_green.update(activeSelector=status["stableRS"], previewSelector=status["currentPodHash"])
    if now - started < READY_SECONDS * scale:
        status.update(phase="Progressing", message="waiting for the preview to be ready")
        return
    if strategy.get("autoPromotionEnabled", True):
        _complete(obj)
        return
    duration = strategy.get("autoPromotionSeconds")
    ready_at = started + READY_SECONDS * scale
    if _pause(obj, now, ready_at, scale, duration, reason="BlueGreenPause") is not None:
        _complete(obj)


def _weights(obj: dict, weight: int) -> None:
    status = obj["status"]
    status.setdefault("canary", {})["weights"] = {
        "canary": {"podTemplateHash": status["currentPodHash"], "weight": weight},
        "stable": {"podTemplateHash": status["stableRS"], "weight": 100 - weight},
    }


def _complete(obj: dict) -> None:
    status = obj["status"]
    status["stableRS"] = status["currentPodHash"]
    steps = canary_steps(obj)
    status["currentStepIndex"] = len(steps) if steps is not None else 0
    for key in ("pauseConditions", "controllerPause", "promoteFull"):
        status.pop(key, None)
    if steps is None:
        current = status["currentPodHash"]
        status["blueGreen"] = {"activeSelector": current, "previewSelector": current}
        status.pop("currentStepIndex", None)
    _healthy(obj)


def _healthy(obj: dict) -> None:
    status = obj["status"]
    if canary_steps(obj) is not None:
        _weights(obj, 0)
        status["canary"]["weights"]["stable"]["weight"] = 100
    status.update(phase="Healthy", message="")


def _aborted(obj: dict, now: float) -> None:
    status, annotations = obj["status"], obj["metadata"]["annotations"]
    if not annotations.get(ABORTED):
        annotations[ABORTED] = "true"
        status["abortedAt"] = rfc3339(now)
    status.pop("pauseConditions", None)
    status.pop("controllerPause", None)
    if canary_steps(obj) is None:
        stable = status["stableRS"]
        status["blueGreen"] = {"activeSelector": stable, "previewSelector": stable}
    else:
        _weights(obj, 0)
    revision = annotations.get(REVISION, "?")
    status.update(
        phase="Degraded",
        message=f"RolloutAborted: Rollout aborted update to revision {revision}",
    )


def _replicas(obj: dict) -> None:
    replicas, status = obj["spec"].get("replicas", 1), obj["status"]
    weight = status.get("canary", {}).get("weights", {}).get("canary", {}).get("weight", 0)
    done = status.get("stableRS") == status.get("currentPodHash")
    updated = replicas if done else math.ceil(replicas * weight / 100)
    status.update(
        replicas=replicas,
        updatedReplicas=updated,
        readyReplicas=replicas,
        availableReplicas=replicas,
        HPAReplicas=replicas,
    )


def rollout_actions(obj: dict) -> list[tuple[str, bool]]:
    """(action, disabled) as Argo CD's Rollout discovery offers them."""
    status, spec = obj.get("status", {}), obj["spec"]
    in_update = status.get("stableRS") != status.get("currentPodHash")
    aborted = bool(status.get("abort"))
    paused = bool(status.get("pauseConditions")) or bool(spec.get("paused"))
    is_canary = canary_steps(obj) is not None
    enabled = {
        "resume": paused,
        "restart": not aborted,
        "abort": in_update and not aborted,
        "retry": aborted,
        "pause": in_update and not aborted and not spec.get("paused"),
        "promote-full": in_update and not aborted,
        "skip-current-step": is_canary and in_update and not aborted,
    }
    return [(name, not enabled[name]) for name in ACTIONS]


def rollout_action_patch(obj: dict, action: str, now: float) -> dict:
    """The merge patch an Argo CD resource action applies; RolloutActionError if not allowed."""
    allowed = dict(rollout_actions(obj))
    if action not in allowed:
        raise RolloutActionError(f"action {action!r} is not available for a Rollout")
    if allowed[action]:
        raise RolloutActionError(f"action {action!r} is disabled for this Rollout now")
    status = obj.get("status", {})
    if action == "resume":
        return {"spec": {"paused": None}, "status": {"pauseConditions": None}}
    if action == "abort":
        return {"status": {"abort": True}}
    if action == "retry":
        return {"status": {"abort": None}}
    if action == "pause":
        return {"spec": {"paused": True}}
    if action == "promote-full":
        return {"spec": {"paused": None}, "status": {"promoteFull": True}}
    if action == "skip-current-step":
        steps = canary_steps(obj) or []
        index = min(int(status.get("currentStepIndex", 0)) + 1, len(steps))
        return {"status": {"pauseConditions": None, "currentStepIndex": index}}
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"spec": {"restartAt": stamp}}
