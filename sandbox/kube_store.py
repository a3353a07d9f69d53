"""The object store of one simulated Kubernetes cluster: resource types, CRUD, patches, watches.

It behaves like the API server's storage layer: every write gets a new `resourceVersion`,
`generation` moves when `spec` changes, updates with a stale resourceVersion conflict, and
watchers see ADDED / MODIFIED / DELETED events. Controllers (kube_sim.py) run on top of it.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

import jsonpatch


@dataclass(frozen=True)
class ResourceType:
    plural: str
    kind: str
    group: str
    version: str
    singular: str
    short_names: tuple[str, ...] = ()
    namespaced: bool = True
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ("all",)

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """How error messages name the resource: `deployments.apps`, `configmaps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def has_spec(self) -> bool:
        return self.plural not in {"configmaps", "secrets"}


RESOURCE_TYPES = [
    ResourceType("namespaces", "Namespace", "", "v1", "namespace", ("ns",), False, ("status",), ()),
    ResourceType("pods", "Pod", "", "v1", "pod", ("po",), subresources=("status",)),
    ResourceType("configmaps", "ConfigMap", "", "v1", "configmap", ("cm",), categories=()),
    ResourceType("services", "Service", "", "v1", "service", ("svc",), subresources=("status",)),
    ResourceType("jobs", "Job", "batch", "v1", "job", (), subresources=("status",)),
    ResourceType("secrets", "Secret", "", "v1", "secret", (), categories=()),
    ResourceType(
        "deployments", "Deployment", "apps", "v1", "deployment", ("deploy",),
        subresources=("status", "scale"),
    ),
    ResourceType(
        "replicasets", "ReplicaSet", "apps", "v1", "replicaset", ("rs",),
        subresources=("status", "scale"),
    ),
    ResourceType(
        "horizontalpodautoscalers", "HorizontalPodAutoscaler", "autoscaling", "v2",
        "horizontalpodautoscaler", ("hpa",), subresources=("status",),
    ),
    ResourceType(
        "rollouts", "Rollout", "argoproj.io", "v1alpha1", "rollout", ("ro",),
        subresources=("status", "scale"),
    ),
]  # fmt: skip
BY_PLURAL = {rt.plural: rt for rt in RESOURCE_TYPES}

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
# Lists that strategic merge patch merges by a key instead of replacing (from the Go types).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
}


def clone(value):
    """Deep copy of JSON-shaped data (several times faster than copy.deepcopy)."""
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value


def now_iso(at: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if at is None else at, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class KubeError(Exception):
    """Becomes a `Status` object with the HTTP code, as the API server answers."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        rtype: ResourceType | None = None,
        name: str = "",
        causes: list[dict] | None = None,
    ):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.rtype, self.name, self.causes = rtype, name, causes

    def status(self) -> dict:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.rtype or self.name:
            details = {"name": self.name} if self.name else {}
            if self.rtype:
                details["kind"] = self.rtype.kind if self.causes else self.rtype.plural
                if self.rtype.group:
                    details["group"] = self.rtype.group
            if self.causes:
                details["causes"] = self.causes
            body["details"] = details
        return body


def not_found(rtype: ResourceType, name: str) -> KubeError:
    return KubeError(
        404, "NotFound", f'{rtype.qualified} "{name}" not found', rtype=rtype, name=name
    )


def invalid(rtype: ResourceType, name: str, field: str, value, detail: str) -> KubeError:
    shown = json.dumps(value) if isinstance(value, str) else value
    message = f"Invalid value: {shown}: {detail}"
    kind = f"{rtype.kind}.{rtype.group}" if rtype.group else rtype.kind
    return KubeError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {field}: {message}',
        rtype=rtype,
        name=name,
        causes=[{"reason": "FieldValueInvalid", "message": message, "field": field}],
    )


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target, patch, field: str = ""):
    """Kubernetes strategic merge patch for the built-in types (merge keys from the Go structs)."""
    if not isinstance(patch, dict):
        return clone(patch)
    if patch.get("$patch") == "replace":
        return {k: clone(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):  # $retainKeys, $setElementOrder/..., $deleteFromPrimitiveList/...
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(result.get(key), list):
            result[key] = _merge_list(result[key], value, MERGE_KEYS[key], key)
        else:
            merged = strategic_merge_patch(result.get(key), value, key)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    return result


def _merge_list(current: list, patch: list, merge_key: str, field: str) -> list:
    result = [clone(item) for item in current]
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            return clone(patch)
        index = next(
            (i for i, old in enumerate(result) if old.get(merge_key) == item[merge_key]), None
        )
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append({k: v for k, v in item.items() if k != "$patch"})
        else:
            result[index] = strategic_merge_patch(result[index], item, field)
    return result


def apply_patch(rtype: ResourceType, name: str, original: dict, content_type: str, body: bytes):
    """Apply a PATCH body of the given media type, as the API server does."""
    media = content_type.split(";")[0].strip().lower()
    if media not in {MERGE_PATCH, STRATEGIC_MERGE_PATCH, JSON_PATCH}:
        raise KubeError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{JSON_PATCH}, {MERGE_PATCH}, {STRATEGIC_MERGE_PATCH}",
        )
    if media == STRATEGIC_MERGE_PATCH and rtype.group == "argoproj.io":
        raise KubeError(
            415,
            "UnsupportedMediaType",
            "strategic merge patch is not supported for custom resources; use "
            f"{MERGE_PATCH} or {JSON_PATCH}",
        )
    try:
        patch = json.loads(body or b"null")
    except ValueError as exc:
        raise KubeError(400, "BadRequest", f"error decoding patch: {exc}") from exc
    if media == JSON_PATCH:
        if not isinstance(patch, list):
            raise KubeError(
                400,
                "BadRequest",
                "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
            )
        try:
            return jsonpatch.apply_patch(original, patch)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise KubeError(
                422, "Invalid", f"the server rejected our request due to an error: {exc}"
            ) from exc
    if not isinstance(patch, dict):
        raise KubeError(400, "BadRequest", "patch body must be a JSON object")
    if media == MERGE_PATCH:
        return merge_patch(original, patch)
    return strategic_merge_patch(original, patch)


def label_selector_matches(selector: str, labels: dict) -> bool:
    """The label selector syntax of `?labelSelector=`: a=b, a!=b, a, !a, a in (x,y), a notin (x)."""
    for requirement in _split_requirements(selector):
        if not _requirement_matches(requirement, labels):
            return False
    return True


def _split_requirements(selector: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def _requirement_matches(requirement: str, labels: dict) -> bool:
    set_match = re.match(r"^([^\s!=]+)\s+(in|notin)\s+\((.*)\)$", requirement)
    if set_match:
        key, operator, values = set_match.groups()
        options = {value.strip() for value in values.split(",")}
        inside = key in labels and labels[key] in options
        return inside if operator == "in" else not inside
    if "!=" in requirement:
        key, value = (part.strip() for part in requirement.split("!=", 1))
        return labels.get(key) != value
    if "=" in requirement:
        key, value = (part.strip() for part in requirement.split("=", 1))
        return labels.get(key) == value.lstrip("=").strip()
    if requirement.startswith("!"):
        return requirement[1:].strip() not in labels
    return requirement in labels


def selector_string(selector: dict | None) -> str:
    """metav1.LabelSelector as the `a=b,c in (d)` string form used by Scale.status.selector."""
    selector = selector or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        operator = {"In": "in", "NotIn": "notin"}.get(expression.get("operator"))
        if operator:
            values = ",".join(sorted(expression.get("values") or []))
            parts.append(f"{expression['key']} {operator} ({values})")
        elif expression.get("operator") == "Exists":
            parts.append(expression["key"])
        elif expression.get("operator") == "DoesNotExist":
            parts.append(f"!{expression['key']}")
    return ",".join(parts)


def field_selector_matches(selector: str, obj: dict) -> bool:
    for requirement in filter(None, (part.strip() for part in selector.split(","))):
        negate = "!=" in requirement
        key, value = re.split(r"!=|==|=", requirement, maxsplit=1)
        actual = obj
        for part in key.strip().split("."):
            actual = actual.get(part) if isinstance(actual, dict) else None
        if (str(actual if actual is not None else "") == value.strip()) == negate:
            return False
    return True


def _owned_by_uid(obj: dict, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])


class Store:
    """Objects of one cluster, keyed by resource plural and (namespace, name)."""

    EVENT_HISTORY = 5000

    def __init__(self):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._objects: dict[str, dict[tuple[str, str], dict]] = {rt: {} for rt in BY_PLURAL}
        # plural -> owner uid -> keys of the objects it owns (a ReplicaSet's pods: Argo CD asks
        # for them per application, and scanning every pod of the cluster was most of its time)
        self._owned: dict[str, dict[str, set[tuple[str, str]]]] = {rt: {} for rt in BY_PLURAL}
        self._revision = 1000
        self._events: deque[tuple[int, str, str, dict]] = deque(maxlen=self.EVENT_HISTORY)

    @property
    def resource_version(self) -> str:
        return str(self._revision)

    # -- reads -------------------------------------------------------------------------------

    def get(self, plural: str, namespace: str, name: str) -> dict:
        with self.lock:
            found = self._objects[plural].get((namespace, name))
            if found is None:
                raise not_found(BY_PLURAL[plural], name)
            return clone(found)

    def find(self, plural: str, namespace: str, name: str) -> dict | None:
        with self.lock:
            found = self._objects[plural].get((namespace, name))
            return clone(found) if found is not None else None

    def list(
        self,
        plural: str,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        owner_uid: str = "",
    ) -> list[dict]:
        with self.lock:
            objects = self._objects[plural]
            if owner_uid:
                keys = self._owned[plural].get(owner_uid, ())
                candidates = [(key, objects[key]) for key in keys]
            else:
                candidates = objects.items()
            found = [  # filtered first, then sorted and copied: most lists match a few objects
                (key, obj)
                for key, obj in candidates
                if namespace in (None, "", key[0])
                and (not owner_uid or _owned_by_uid(obj, owner_uid))
                and label_selector_matches(label_selector, obj["metadata"].get("labels") or {})
                and field_selector_matches(field_selector, obj)
            ]
            found.sort(key=lambda item: item[0])
            return [clone(obj) for _, obj in found]

    def events_since(self, revision: int, plural: str) -> list[tuple[int, str, dict]]:
        with self.lock:
            if self._events and revision < self._events[0][0] - 1:
                raise KubeError(
                    410, "Expired", f"too old resource version: {revision} ({self._revision})"
                )
            return [
                (rv, kind, clone(obj))
                for rv, kind, event_plural, obj in self._events
                if rv > revision and event_plural == plural
            ]

    # -- writes ------------------------------------------------------------------------------

    def create(self, plural: str, namespace: str, obj: dict) -> dict:
        rtype = BY_PLURAL[plural]
        with self.lock:
            obj = clone(obj)
            meta = obj.setdefault("metadata", {})
            name = meta.get("name", "")
            if not name and meta.get("generateName"):
                name = meta["generateName"] + uuid.uuid4().hex[:5]
                meta["name"] = name
            if not name or len(name) > 253 or not DNS_SUBDOMAIN.match(name):
                raise invalid(
                    rtype,
                    name,
                    "metadata.name",
                    name,
                    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                    "characters, '-' or '.', and must start and end with an alphanumeric character",
                )
            if rtype.namespaced:
                namespace = namespace or meta.get("namespace") or "default"
                meta["namespace"] = namespace
                self._ensure_namespace(namespace)
            else:
                namespace = ""
                meta.pop("namespace", None)
            if (namespace, name) in self._objects[plural]:
                raise KubeError(
                    409,
                    "AlreadyExists",
                    f'{rtype.qualified} "{name}" already exists',
                    rtype=rtype,
                    name=name,
                )
            obj["apiVersion"], obj["kind"] = rtype.group_version, rtype.kind
            meta["uid"] = str(uuid.uuid4())
            meta.setdefault("creationTimestamp", now_iso())
            meta.pop("resourceVersion", None)
            if rtype.has_spec:
                meta["generation"] = 1
            return self._write(plural, namespace, obj, "ADDED")

    def _ensure_namespace(self, namespace: str) -> None:
        if ("", namespace) in self._objects["namespaces"]:
            return
        self.create(
            "namespaces",
            "",
            {
                "metadata": {
                    "name": namespace,
                    "labels": {"kubernetes.io/metadata.name": namespace},
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            },
        )

    def update(
        self,
        plural: str,
        namespace: str,
        name: str,
        new: dict,
        *,
        subresource: str = "",
        check_version: bool = True,
    ) -> dict:
        """Replace an object (PUT) or only its status (subresource="status")."""
        rtype = BY_PLURAL[plural]
        with self.lock:
            current = self.get(plural, namespace, name)
            meta = new.get("metadata") or {}
            wanted = meta.get("resourceVersion")
            if check_version and wanted and wanted != current["metadata"]["resourceVersion"]:
                raise KubeError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {rtype.qualified} "{name}": the object '
                    "has been modified; please apply your changes to the latest version and "
                    "try again",
                    rtype=rtype,
                    name=name,
                )
            if meta.get("name", name) != name:
                raise invalid(rtype, name, "metadata.name", meta.get("name"), "field is immutable")
            if subresource == "status":
                result = clone(current)
                if "status" in new:
                    result["status"] = clone(new["status"])
            else:
                result = clone(new)
                if rtype.has_spec and "status" in current:
                    result["status"] = current["status"]  # status changes only via /status
                kept = {
                    k: current["metadata"][k]
                    for k in ("uid", "creationTimestamp", "namespace", "name", "generation")
                    if k in current["metadata"]
                }
                result.setdefault("metadata", {}).update(kept)
                result["apiVersion"], result["kind"] = rtype.group_version, rtype.kind
                if rtype.has_spec and result.get("spec") != current.get("spec"):
                    result["metadata"]["generation"] = current["metadata"].get("generation", 0) + 1
            if result == current:
                return current
            return self._write(plural, namespace, result, "MODIFIED")

    def delete(self, plural: str, namespace: str, name: str) -> dict:
        with self.lock:
            current = self.get(plural, namespace, name)
            self._own(plural, (namespace, name), self._objects[plural].pop((namespace, name)), None)
            self._revision += 1
            current["metadata"]["resourceVersion"] = str(self._revision)
            self._events.append((self._revision, "DELETED", plural, clone(current)))
            self.changed.notify_all()
            self._delete_dependents(current["metadata"]["uid"], namespace)
            return current

    def _delete_dependents(self, uid: str, namespace: str) -> None:
        """Foreground-less garbage collection: what the object owned goes too."""
        for plural, objects in self._objects.items():
            for (ns, name), obj in list(objects.items()):
                if ns == namespace and _owned_by_uid(obj, uid):
                    self.delete(plural, ns, name)

    def _own(self, plural: str, key: tuple[str, str], old: dict | None, new: dict | None) -> None:
        """Keep the owner index of `plural` in step with one object replaced (or removed)."""
        index = self._owned[plural]
        for obj, add in ((old, False), (new, True)):
            for ref in (obj or {}).get("metadata", {}).get("ownerReferences") or []:
                uid = ref.get("uid")
                if not uid:
                    continue
                if add:
                    index.setdefault(uid, set()).add(key)
                elif key in index.get(uid, ()):
                    index[uid].discard(key)
                    if not index[uid]:
                        del index[uid]

    def _write(self, plural: str, namespace: str, obj: dict, event: str) -> dict:
        self._revision += 1
        obj["metadata"]["resourceVersion"] = str(self._revision)
        key = (namespace, obj["metadata"]["name"])
        self._own(plural, key, self._objects[plural].get(key), obj)
        self._objects[plural][key] = obj
        # Stored objects are never changed in place, so the event can share this one.
        self._events.append((self._revision, event, plural, obj))
        self.changed.notify_all()
        return clone(obj)
