"""One simulated cluster: the store plus the controllers that move status forward over time.

Controllers run lazily: every API request (and every watch tick) calls `advance()`, which brings
Deployments, ReplicaSets, Pods, HPAs and Rollouts up to the present moment. A template change
makes a new ReplicaSet whose pods become ready one by one over `ready_delay` seconds while the old
ReplicaSet drains, which is what `kubectl rollout status` watches.
"""

import base64
import copy
import hashlib
import json
import math
import random
import re
import time

from .kube_store import (
    BY_PLURAL,
    KubeError,
    Store,
    apply_patch,
    invalid,
    now_iso,
    selector_string,
)

SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
REVISION = "deployment.kubernetes.io/revision"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
# Rollouts that only wait for time are reconciled at most this often (seconds, scaled).
ROLLOUT_TICK = 0.1
HPA_ABLE = ("ReadyForNewScale", "recommended size matches current size")
HPA_ACTIVE = (
    "ValidMetricFound",
    "the HPA was able to successfully calculate a replica count from cpu resource utilization "
    "(percentage of request)",
)


def template_hash(template: dict) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(SAFE_ALPHABET[byte % len(SAFE_ALPHABET)] for byte in digest[:10])


def owned_by(obj: dict, owner: dict) -> bool:
    uid = owner["metadata"]["uid"]
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])


def owner_reference(owner: dict) -> dict:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def parse_duration(value) -> float:
    if isinstance(value, int | float):
        return float(value)
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(h|m|s)", str(value)):
        total += float(amount) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


def _condition(kind: str, status: bool, reason: str, message: str, at: str, old: list) -> dict:
    previous = next((c for c in old or [] if c.get("type") == kind), None)
    value = "True" if status else "False"
    changed = previous is None or previous.get("status") != value
    same = previous and previous.get("reason") == reason and previous.get("message") == message
    return {
        "type": kind,
        "status": value,
        "lastUpdateTime": previous.get("lastUpdateTime", at) if same and not changed else at,
        "lastTransitionTime": at if changed else previous.get("lastTransitionTime", at),
        "reason": reason,
        "message": message,
    }


class Cluster:
    """A simulated cluster named after its environment."""

    def __init__(
        self, name: str, *, ready_delay: float = 2.0, step_delay: float = 1.0, time_scale=None
    ):
        self.name = name
        self.time_scale = time_scale  # a callable: the sandbox's clock scale (default 1)
        self.store = Store()
        self.ready_delay = ready_delay
        self.step_delay = step_delay
        self.cpu_utilisation: dict[tuple[str, str], int] = {}
        self._pod_ready_at: dict[tuple[str, str], tuple[float, tuple[str, str]]] = {}
        self._dirty: set[tuple[str, str]] = set()
        self._dirty_all = True
        self._hpa_at = 0.0
        self._rollouts_active: set[tuple[str, str]] = set()
        self._rollouts_all = True
        # Rollouts written since the last advance: reconciled on the next one whatever happens.
        # The others only move with time, so they are reconciled at most every ROLLOUT_TICK
        # (scaled): a poll sweep asking for 500 Rollouts one by one then costs 500 lookups,
        # not 500 × 500 reconciliations.
        self._rollouts_fresh: set[tuple[str, str]] = set()
        self._rollouts_at = 0.0
        self._random = random.Random(name)

    @property
    def lock(self):
        return self.store.lock

    # -- writes through the API ------------------------------------------------------------

    def create(self, plural: str, namespace: str, obj: dict, *, advance: bool = True) -> dict:
        """Create as the API server would; advance=False leaves controllers for a later settle()."""
        with self.lock:
            obj = copy.deepcopy(obj)
            if plural in {"deployments", "rollouts"}:
                obj.pop("status", None)
            self._default(plural, obj)
            self.validate(plural, obj)
            created = self.store.create(plural, namespace, obj)
            namespace, name = created["metadata"].get("namespace", ""), created["metadata"]["name"]
            self.touch(plural, namespace, name)
            if advance:
                self.advance()
            return self.store.get(plural, namespace, name)

    def update(self, plural, namespace, name, obj, *, subresource="") -> dict:
        with self.lock:
            obj = copy.deepcopy(obj)
            if subresource != "status":
                self._default(plural, obj)
                self.validate(plural, obj, name)
            self.store.update(plural, namespace, name, obj, subresource=subresource)
            self.touch(plural, namespace, name)
            self.advance()
            return self.store.get(plural, namespace, name)

    def patch(self, plural, namespace, name, content_type, body, *, subresource="") -> dict:
        """PATCH an object or its status subresource; `scale` goes through scale_patch()."""
        with self.lock:
            current = self.store.get(plural, namespace, name)
            patched = apply_patch(BY_PLURAL[plural], name, current, content_type, body)
            if not isinstance(patched, dict):
                raise KubeError(400, "BadRequest", "the patch must leave an object")
            return self.update(plural, namespace, name, patched, subresource=subresource)

    def scale_patch(self, plural, namespace, name, content_type, body) -> dict:
        with self.lock:
            scale = self.scale(plural, namespace, name)
            patched = apply_patch(BY_PLURAL[plural], name, scale, content_type, body)
            return self.scale_update(plural, namespace, name, patched)

    def delete(self, plural: str, namespace: str, name: str) -> dict:
        with self.lock:
            deleted = self.store.delete(plural, namespace, name)
            self.touch(plural, namespace, name)
            self._dirty_all = self._dirty_all or plural == "pods"
            self.advance()
            return deleted

    def scale(self, plural: str, namespace: str, name: str) -> dict:
        """The autoscaling/v1 Scale of a Deployment, ReplicaSet or Rollout."""
        obj = self.store.get(plural, namespace, name)
        status = obj.get("status") or {}
        if plural == "rollouts":
            replicas, selector = status.get("HPAReplicas", 0), status.get("selector", "")
        else:
            replicas, selector = (
                status.get("replicas", 0),
                selector_string(obj["spec"].get("selector")),
            )
        meta = obj["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            },
            "spec": {"replicas": obj["spec"].get("replicas", 1)},
            "status": {"replicas": replicas, "selector": selector},
        }

    def scale_update(self, plural: str, namespace: str, name: str, scale: dict) -> dict:
        rtype = BY_PLURAL[plural]
        with self.lock:
            current = self.store.get(plural, namespace, name)
            replicas = (scale.get("spec") or {}).get("replicas", 0)
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise invalid(
                    rtype, name, "spec.replicas", replicas, "must be greater than or equal to 0"
                )
            current["spec"]["replicas"] = replicas
            version = (scale.get("metadata") or {}).get("resourceVersion")
            current["metadata"]["resourceVersion"] = (
                version or current["metadata"]["resourceVersion"]
            )
            self.store.update(plural, namespace, name, current)
            self.touch(plural, namespace, name)
            self.advance()
            return self.scale(plural, namespace, name)

    # -- defaults and validation (what the API server does before storing) ------------------

    def _default(self, plural: str, obj: dict) -> None:
        spec = obj.get("spec")
        if plural == "secrets":
            obj.setdefault("type", "Opaque")
            for key, value in (obj.pop("stringData", None) or {}).items():
                obj.setdefault("data", {})[key] = base64.b64encode(str(value).encode()).decode()
        if plural == "deployments" and isinstance(spec, dict):
            spec.setdefault("replicas", 1)
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
            strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
            if strategy.get("type", "RollingUpdate") == "RollingUpdate":
                strategy.setdefault("type", "RollingUpdate")
                strategy.setdefault("rollingUpdate", {"maxUnavailable": "25%", "maxSurge": "25%"})
        if plural in {"deployments", "replicasets", "rollouts"} and isinstance(spec, dict):
            pod_spec = (spec.get("template") or {}).get("spec")
            if isinstance(pod_spec, dict):
                pod_spec.setdefault("restartPolicy", "Always")
                pod_spec.setdefault("terminationGracePeriodSeconds", 30)
                pod_spec.setdefault("dnsPolicy", "ClusterFirst")
                for container in pod_spec.get("containers") or []:
                    if isinstance(container, dict):
                        container.setdefault("imagePullPolicy", "IfNotPresent")
                        container.setdefault("terminationMessagePath", "/dev/termination-log")
                        container.setdefault("terminationMessagePolicy", "File")

    def validate(self, plural: str, obj: dict, name: str = "") -> None:
        rtype = BY_PLURAL[plural]
        name = name or (obj.get("metadata") or {}).get("name", "")
        spec = obj.get("spec")
        if plural == "jobs":
            containers = (((spec or {}).get("template") or {}).get("spec") or {}).get("containers")
            if not containers:
                raise invalid(
                    rtype, name, "spec.template.spec.containers", containers, "Required value"
                )
        if plural in {"deployments", "rollouts", "replicasets"}:
            if not isinstance(spec, dict):
                raise invalid(rtype, name, "spec", spec, "spec is required")
            replicas = spec.get("replicas", 1)
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise invalid(
                    rtype, name, "spec.replicas", replicas, "must be greater than or equal to 0"
                )
            labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            match = (spec.get("selector") or {}).get("matchLabels") or {}
            if not match or any(labels.get(k) != v for k, v in match.items()):
                raise invalid(
                    rtype,
                    name,
                    "spec.template.metadata.labels",
                    labels,
                    "`selector` does not match template `labels`",
                )
            containers = ((spec.get("template") or {}).get("spec") or {}).get("containers")
            if not containers or not all(
                isinstance(c, dict) and c.get("name") and c.get("image") for c in containers
            ):
                raise invalid(
                    rtype,
                    name,
                    "spec.template.spec.containers",
                    containers,
                    "containers need a name and an image",
                )
        if plural == "horizontalpodautoscalers":
            self._validate_hpa(rtype, name, spec)
        if plural in {"configmaps", "secrets"}:
            for field in ("data", "stringData", "binaryData"):
                values = obj.get(field) or {}
                if not isinstance(values, dict) or not all(
                    isinstance(v, str) for v in values.values()
                ):
                    raise invalid(rtype, name, field, values, "values must be strings")

    def _validate_hpa(self, rtype, name, spec) -> None:
        if not isinstance(spec, dict) or not spec.get("scaleTargetRef"):
            raise invalid(rtype, name, "spec.scaleTargetRef", None, "scaleTargetRef is required")
        minimum, maximum = spec.get("minReplicas", 1), spec.get("maxReplicas")
        if not isinstance(minimum, int) or minimum < 1:
            raise invalid(
                rtype, name, "spec.minReplicas", minimum, "must be greater than or equal to 1"
            )
        if not isinstance(maximum, int) or maximum < 1:
            raise invalid(rtype, name, "spec.maxReplicas", maximum, "must be greater than 0")
        if maximum < minimum:
            raise invalid(
                rtype,
                name,
                "spec.maxReplicas",
                maximum,
                "must be greater than or equal to `minReplicas`",
            )
        for index, metric in enumerate(spec.get("metrics") or []):
            target = ((metric or {}).get("resource") or {}).get("target") or {}
            value = target.get("averageUtilization")
            if target.get("type") == "Utilization" and (not isinstance(value, int) or value <= 0):
                raise invalid(
                    rtype,
                    name,
                    f"spec.metrics[{index}].resource.target.averageUtilization",
                    value,
                    "must be greater than 0",
                )

    # -- controllers --------------------------------------------------------------------------

    def advance(self, now: float | None = None) -> None:
        """Bring every controller's view up to `now` (default: the current time)."""
        now = time.time() if now is None else now
        with self.lock:
            self._mark_pods_ready(now)
            if self._dirty_all or now - self._hpa_at >= 1.0:
                self._hpa_at = now
                for hpa in self.store.list("horizontalpodautoscalers"):
                    self._reconcile_hpa(hpa, now)
            if self._dirty_all:
                self._dirty_all = False
                self._dirty = {
                    (d["metadata"]["namespace"], d["metadata"]["name"])
                    for d in self.store.list("deployments")
                }
            while self._dirty:
                deployment = self.store.find("deployments", *self._dirty.pop())
                if deployment is not None:
                    self._reconcile_deployment(deployment, now)
            self._advance_rollouts(now)

    def _advance_rollouts(self, now: float) -> None:
        from .kube_rollouts import rollout_advance

        if self._rollouts_all:
            self._rollouts_all = False
            self._rollouts_active = {
                (r["metadata"]["namespace"], r["metadata"]["name"])
                for r in self.store.list("rollouts")
            }
            self._rollouts_fresh |= self._rollouts_active
        since = now - self._rollouts_at  # negative after settle() advanced to a later time
        if since < 0 or since >= ROLLOUT_TICK * min(1.0, self.rollout_scale()):
            self._rollouts_at = now
            due = list(self._rollouts_active)
        else:
            due = [key for key in self._rollouts_fresh if key in self._rollouts_active]
        self._rollouts_fresh = set()
        for key in due:
            rollout = self.store.find("rollouts", *key)
            if rollout is None or rollout_advance(self, rollout, now):
                self._rollouts_active.discard(key)

    def touch(self, plural: str, namespace: str, name: str) -> None:
        """Note a write so that the next advance() reconciles what depends on it."""
        if plural == "deployments":
            self._dirty.add((namespace, name))
        elif plural == "rollouts":
            self._rollouts_active.add((namespace, name))
            self._rollouts_fresh.add((namespace, name))
        elif plural in {"pods", "replicasets"}:
            self._dirty_all = True
            self._rollouts_all = True
        elif plural == "horizontalpodautoscalers":
            self._hpa_at = 0.0  # reconcile autoscalers on the next advance()

    def settle(self) -> None:
        """Finish every pending change at once (tests and the initial seed start converged)."""
        with self.lock:
            self._dirty_all = True
            for _ in range(50):
                self._pod_ready_at = {
                    key: (0.0, owner) for key, (_, owner) in self._pod_ready_at.items()
                }
                self._rollouts_all = True
                before = self.store.resource_version
                self.advance(time.time() + 3600)
                if self.store.resource_version == before:
                    break
            self._hpa_at = 0.0

    def _mark_pods_ready(self, now: float) -> None:
        for key, (ready_at, owner) in list(self._pod_ready_at.items()):
            if ready_at > now:
                continue
            del self._pod_ready_at[key]
            pod = self.store.find("pods", *key)
            if pod is not None:
                self._set_pod_running(pod, ready_at)
                self.store.update("pods", *key, pod, subresource="status", check_version=False)
                if owner[0] == "rollouts":
                    self._rollouts_active.add(owner[1:])
                    self._rollouts_fresh.add(owner[1:])
                else:
                    self._dirty.add(owner)

    def _reconcile_deployment(self, deployment: dict, now: float) -> None:
        from .kube_pods import pod_manifest, replicaset_manifest

        meta, spec = deployment["metadata"], deployment["spec"]
        namespace, desired = meta["namespace"], spec.get("replicas", 1)
        owned = self.store.list("replicasets", namespace, owner_uid=meta["uid"])
        pod_hash = template_hash(spec["template"])
        revisions = [int(rs["metadata"].get("annotations", {}).get(REVISION, "0")) for rs in owned]
        new_rs = next(
            (rs for rs in owned if rs["metadata"]["labels"].get("pod-template-hash") == pod_hash),
            None,
        )
        if new_rs is None:
            manifest = replicaset_manifest(deployment, pod_hash, max(revisions, default=0) + 1)
            new_rs = self.store.create("replicasets", namespace, manifest)
        elif int(new_rs["metadata"]["annotations"].get(REVISION, "0")) < max(revisions):
            new_rs["metadata"]["annotations"][REVISION] = str(max(revisions) + 1)  # a rollback
        new_uid = new_rs["metadata"]["uid"]
        new_pods = self.store.list("pods", namespace, owner_uid=new_uid)
        for index in range(desired - len(new_pods)):
            pod = self.store.create("pods", namespace, pod_manifest(new_rs, self._random))
            ready_at = now + self.pod_delay() * (index + 1) / 2
            self._pod_ready_at[(namespace, pod["metadata"]["name"])] = (
                ready_at,
                (namespace, meta["name"]),
            )
            new_pods.append(pod)
        for pod in sorted(new_pods, key=lambda p: p["metadata"]["creationTimestamp"])[desired:]:
            self.store.delete("pods", namespace, pod["metadata"]["name"])
        new_pods = self.store.list("pods", namespace, owner_uid=new_uid)
        allowed_old = max(0, desired - sum(1 for p in new_pods if self._pod_ready(p)))
        old_sets = [rs for rs in owned if rs["metadata"]["uid"] != new_uid]
        old_sets.sort(key=lambda rs: -int(rs["metadata"]["annotations"].get(REVISION, "0")))
        old_pods = []
        for rs in old_sets:
            rs_pods = self.store.list("pods", namespace, owner_uid=rs["metadata"]["uid"])
            keep = min(len(rs_pods), allowed_old)
            allowed_old -= keep
            for pod in rs_pods[keep:]:
                self.store.delete("pods", namespace, pod["metadata"]["name"])
            old_pods.extend(rs_pods[:keep])
            self._update_replicaset(rs, rs_pods[:keep])
        self._update_replicaset(new_rs, new_pods, desired)
        self._update_deployment_status(deployment, new_rs, new_pods, old_pods, now)

    def _pod_ready(self, pod: dict) -> bool:
        return any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (pod.get("status") or {}).get("conditions") or []
        )

    def _update_replicaset(self, rs: dict, pods: list[dict], replicas: int | None = None) -> None:
        namespace, name = rs["metadata"]["namespace"], rs["metadata"]["name"]
        fresh = self.store.get("replicasets", namespace, name)
        replicas = len(pods) if replicas is None else replicas
        revision = rs["metadata"]["annotations"].get(REVISION)
        if (
            fresh["spec"].get("replicas") != replicas
            or fresh["metadata"]["annotations"].get(REVISION) != revision
        ):
            fresh["spec"]["replicas"] = replicas
            fresh["metadata"]["annotations"][REVISION] = revision
            fresh = self.store.update("replicasets", namespace, name, fresh, check_version=False)
        ready = sum(1 for p in pods if self._pod_ready(p))
        status = {"replicas": len(pods), "fullyLabeledReplicas": len(pods)}
        status |= {"readyReplicas": ready, "availableReplicas": ready} if ready else {}
        status["observedGeneration"] = fresh["metadata"].get("generation", 1)
        if fresh.get("status") != status:
            self.store.update(
                "replicasets",
                namespace,
                name,
                fresh | {"status": status},
                subresource="status",
                check_version=False,
            )

    def _update_deployment_status(self, deployment, new_rs, new_pods, old_pods, now) -> None:
        meta, spec = deployment["metadata"], deployment["spec"]
        namespace, desired = meta["namespace"], spec.get("replicas", 1)
        total = len(new_pods) + len(old_pods)
        ready = sum(1 for p in new_pods + old_pods if self._pod_ready(p))
        old = deployment.get("status") or {}
        at = now_iso(now)
        max_unavailable = math.floor(desired * 0.25)
        complete = len(new_pods) == desired and total == desired and ready >= desired
        rs_name = new_rs["metadata"]["name"]
        status = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": total,
            "updatedReplicas": len(new_pods),
        }
        status |= {"readyReplicas": ready, "availableReplicas": ready} if ready else {}
        if total - ready > 0:
            status["unavailableReplicas"] = total - ready
        available = ready >= desired - max_unavailable
        conditions = old.get("conditions")
        if available:
            ok = ("MinimumReplicasAvailable", "Deployment has minimum availability.")
        else:
            ok = ("MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
        if complete:
            progress = (
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
            )
        else:
            progress = ("ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
        status["conditions"] = [
            _condition("Available", available, *ok, at, conditions),
            _condition("Progressing", True, *progress, at, conditions),
        ]
        if old != status:
            current = self.store.get("deployments", namespace, meta["name"])
            self.store.update(
                "deployments",
                namespace,
                meta["name"],
                current | {"status": status},
                subresource="status",
                check_version=False,
            )

    def _set_pod_running(self, pod: dict, ready_at: float) -> None:
        from .kube_pods import running_status

        pod["status"] = running_status(pod, now_iso(ready_at))

    def pod_restart(
        self,
        namespace: str,
        name: str,
        *,
        reason: str = "Error",
        exit_code: int = 1,
        at: float | None = None,
    ) -> dict:
        """Record a container restart on a pod (kubelet's view) at `at` (default now)."""
        finished = now_iso(at)
        with self.lock:
            pod = self.store.get("pods", namespace, name)
            for container in (pod.get("status") or {}).get("containerStatuses") or []:
                running = (container.get("state") or {}).get("running") or {}
                container["restartCount"] = container.get("restartCount", 0) + 1
                container["lastState"] = {
                    "terminated": {
                        "exitCode": exit_code,
                        "reason": reason,
                        "startedAt": min(running.get("startedAt", finished), finished),
                        "finishedAt": finished,
                        "containerID": container.get("containerID", ""),
                    }
                }
                container["state"] = {"running": {"startedAt": finished}}
            return self.store.update(
                "pods", namespace, name, pod, subresource="status", check_version=False
            )

    def _reconcile_hpa(self, hpa: dict, now: float) -> None:
        meta, spec = hpa["metadata"], hpa["spec"]
        namespace = meta["namespace"]
        ref = spec.get("scaleTargetRef") or {}
        plural = {
            "Deployment": "deployments",
            "Rollout": "rollouts",
            "ReplicaSet": "replicasets",
        }.get(ref.get("kind"))
        target = self.store.find(plural, namespace, ref.get("name", "")) if plural else None
        old = hpa.get("status") or {}
        at = now_iso(now)
        status = {"currentReplicas": 0, "desiredReplicas": 0}
        if target is None:
            status["conditions"] = [
                _condition(
                    "AbleToScale",
                    False,
                    "FailedGetScale",
                    "the HPA controller was unable to get the target's current scale: "
                    f'{ref.get("kind")} "{ref.get("name")}" not found',
                    at,
                    old.get("conditions"),
                )
            ]
        else:
            current = target["spec"].get("replicas", 1)
            desired = min(max(current, spec.get("minReplicas", 1)), spec["maxReplicas"])
            if desired != current:
                target["spec"]["replicas"] = desired
                self.store.update(plural, namespace, ref["name"], target, check_version=False)
                self.touch(plural, namespace, ref["name"])
                status["lastScaleTime"] = at
            elif old.get("lastScaleTime"):
                status["lastScaleTime"] = old["lastScaleTime"]
            status["currentReplicas"] = (target.get("status") or {}).get("replicas", current)
            status["desiredReplicas"] = desired
            status["currentMetrics"] = self._hpa_metrics(hpa, target)
            limited = desired in (spec.get("minReplicas", 1), spec["maxReplicas"])
            conditions = old.get("conditions")
            if limited:
                limit = ("TooFewReplicas", "the desired replica count is at a limit")
            else:
                limit = ("DesiredWithinRange", "the desired count is within the acceptable range")
            status["conditions"] = [
                _condition("AbleToScale", True, *HPA_ABLE, at, conditions),
                _condition("ScalingActive", True, *HPA_ACTIVE, at, conditions),
                _condition("ScalingLimited", limited, *limit, at, conditions),
            ]
        for condition in status["conditions"]:
            condition.pop("lastUpdateTime", None)
        if old != status:
            self.store.update(
                "horizontalpodautoscalers",
                namespace,
                meta["name"],
                hpa | {"status": status},
                subresource="status",
                check_version=False,
            )

    def _hpa_metrics(self, hpa: dict, target: dict) -> list[dict]:
        key = (hpa["metadata"]["namespace"], hpa["metadata"]["name"])
        seed = int(hashlib.sha256("/".join(key).encode()).hexdigest(), 16)
        utilisation = self.cpu_utilisation.setdefault(key, 35 + seed % 40)
        containers = target["spec"]["template"]["spec"].get("containers") or []
        metrics = []
        for metric in hpa["spec"].get("metrics") or []:
            resource = (metric or {}).get("resource") or {}
            if metric.get("type") != "Resource" or not resource.get("name"):
                continue
            value = utilisation if resource["name"] == "cpu" else 50 + seed % 30
            request = _request_quantity(containers, resource["name"])
            average = (
                f"{int(request * value / 100)}m"
                if resource["name"] == "cpu"
                else f"{int(request * value / 100)}Mi"
            )
            metrics.append(
                {
                    "type": "Resource",
                    "resource": {
                        "name": resource["name"],
                        "current": {"averageUtilization": value, "averageValue": average},
                    },
                }
            )
        return metrics

    def rollout_scale(self) -> float:
        """How the Rollout controller's durations are scaled (the sandbox's time scale)."""
        return (self.time_scale() if self.time_scale else 1.0) * self.step_delay

    def pod_delay(self) -> float:
        """How long a new pod takes to become ready."""
        return (self.time_scale() if self.time_scale else 1.0) * self.ready_delay

    def replicaset_run(
        self, rs: dict, count: int, now: float, owner: tuple, *, older_than: str = ""
    ) -> bool:
        """Give a Rollout's ReplicaSet `count` pods (pods created before `older_than`, a
        restart, are replaced); True when it has them all ready."""
        from .kube_pods import pod_manifest

        namespace = rs["metadata"]["namespace"]
        pods = self.store.list("pods", namespace, owner_uid=rs["metadata"]["uid"])
        for pod in [p for p in pods if p["metadata"]["creationTimestamp"] < older_than]:
            self.store.delete("pods", namespace, pod["metadata"]["name"])
            pods.remove(pod)
        for index in range(count - len(pods)):
            pod = self.store.create("pods", namespace, pod_manifest(rs, self._random))
            ready_at = now + self.pod_delay() * (index + 1) / 2
            self._pod_ready_at[(namespace, pod["metadata"]["name"])] = (ready_at, owner)
            pods.append(pod)
        for pod in sorted(pods, key=lambda p: p["metadata"]["creationTimestamp"])[count:]:
            self.store.delete("pods", namespace, pod["metadata"]["name"])
            self._pod_ready_at.pop((namespace, pod["metadata"]["name"]), None)
        pods = self.store.list("pods", namespace, owner_uid=rs["metadata"]["uid"])
        self._update_replicaset(rs, pods, count)
        return len(pods) == count and all(self._pod_ready(p) for p in pods)


def _request_quantity(containers: list, resource: str) -> float:
    """Sum of container requests in millicores (cpu) or MiB (memory), for plausible metrics."""
    total = 0.0
    for container in containers:
        value = str(((container.get("resources") or {}).get("requests") or {}).get(resource, ""))
        if not value:
            continue
        if resource == "cpu":
            total += float(value[:-1]) if value.endswith("m") else float(value) * 1000
        else:
            number = float(re.sub(r"[A-Za-z]+$", "", value) or 0)
            total += number * {"Gi": 1024, "Mi": 1, "Ki": 1 / 1024}.get(value[-2:], 1 / 1048576)
    return total or (100.0 if resource == "cpu" else 128.0)


__all__ = ["Cluster", "KubeError", "template_hash"]
