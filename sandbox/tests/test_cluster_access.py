"""deploy/kubernetes/cluster-access.yaml grants exactly what the Kubernetes adapter calls: the
grants are derived from integrations/kubernetes/adapter.py (each client method it calls names a
verb, a resource and, through its API class, a group), so a new call without its grant fails
here, and so does a grant no call needs."""

import ast
import re
from pathlib import Path

import yaml

from integrations.kubernetes.types import ROLLOUTS

from .test_kubernetes_spec import CORE, validate  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "integrations" / "kubernetes" / "adapter.py"
MANIFEST = ROOT / "deploy" / "kubernetes" / "cluster-access.yaml"
# The adapter's local names for the official client's API classes, and their groups.
GROUPS = {"apps": "apps", "core": "", "autoscaling": "autoscaling", "objects": ROLLOUTS[0]}
VERBS = {"read": "get", "get": "get", "list": "list", "patch": "patch", "create": "create",
         "replace": "update", "delete": "delete"}  # fmt: skip
CALL = re.compile(
    r"^(read|get|list|patch|create|replace|delete)_namespaced_(\w+?)(_scale|_status)?$"
)


def _needed() -> set[tuple[str, str, str]]:
    needed = set()
    for node in ast.walk(ast.parse(ADAPTER.read_text())):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        if node.value.id not in GROUPS or not (match := CALL.match(node.attr)):
            continue
        verb, kind, sub = match.groups()
        resource = ROLLOUTS[2] if kind == "custom_object" else kind.replace("_", "") + "s"
        needed.add((GROUPS[node.value.id], resource + (f"/{sub[1:]}" if sub else ""), VERBS[verb]))
    return needed


def _documents() -> list[dict]:
    return [doc for doc in yaml.safe_load_all(MANIFEST.read_text()) if doc]


def _granted() -> set[tuple[str, str, str]]:
    (role,) = [d for d in _documents() if d["kind"] == "ClusterRole"]
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_every_api_the_adapter_builds_is_one_the_derivation_knows():
    """A new API class (say BatchV1Api) under a new local name would go unseen: refuse it."""
    tree = ast.parse(ADAPTER.read_text())
    built = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.Tuple)
        for target in getattr(node, "targets", [])
        if isinstance(target, ast.Name)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr.endswith("Api")
        and node.value.func.attr != "ApiClient"
    }
    pairs = {
        name.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple)
        for target in node.targets
        if isinstance(target, ast.Tuple)
        for name in target.elts
    }
    assert (built | pairs) & set(GROUPS) == set(GROUPS)
    assert built <= set(GROUPS), built - set(GROUPS)
    unknown = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in GROUPS
        and not CALL.match(node.attr)
    }
    assert not unknown, f"calls the derivation does not read: {unknown}"


def test_the_adapter_calls_are_found():
    needed = _needed()
    assert ("apps", "deployments/scale", "patch") in needed
    assert ("argoproj.io", "rollouts", "get") in needed and ("", "pods", "list") in needed
    assert len(needed) >= 10


def test_the_role_grants_exactly_what_the_adapter_calls():
    needed, granted = _needed(), _granted()
    assert not needed - granted, f"called but not granted: {sorted(needed - granted)}"
    assert not granted - needed, f"granted but never called: {sorted(granted - needed)}"
    assert not any(resource == "secrets" for _, resource, _ in granted)


def test_the_account_token_and_binding_fit_together(validate):  # noqa: F811
    docs = {d["kind"]: d for d in _documents()}
    assert set(docs) == {"ServiceAccount", "Secret", "ClusterRole", "ClusterRoleBinding"}
    validate(CORE, "io.k8s.api.core.v1.ServiceAccount", docs["ServiceAccount"])
    validate(CORE, "io.k8s.api.core.v1.Secret", docs["Secret"])
    account = docs["ServiceAccount"]["metadata"]
    secret = docs["Secret"]
    assert secret["type"] == "kubernetes.io/service-account-token"
    assert (
        secret["metadata"]["annotations"]["kubernetes.io/service-account.name"] == account["name"]
    )
    binding = docs["ClusterRoleBinding"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": docs["ClusterRole"]["metadata"]["name"]}  # fmt: skip
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    ]
    for kind in ("ClusterRole", "ClusterRoleBinding"):
        assert docs[kind]["apiVersion"] == "rbac.authorization.k8s.io/v1"
    for rule in docs["ClusterRole"]["rules"]:
        assert set(rule) == {"apiGroups", "resources", "verbs"}  # no wildcards, no nonResourceURLs
        assert "*" not in rule["resources"] + rule["verbs"] + rule["apiGroups"]
