"""API-server behaviour of the Kubernetes sandbox: patches, conflicts, selectors, watch, seeding."""

import json
import time

import pytest
import requests
import yaml

DEPLOYMENTS = "/apis/apps/v1/namespaces/shop/deployments"
CONFIGMAP = "/api/v1/namespaces/shop/configmaps/cart-runtime"
SMP = {"Content-Type": "application/strategic-merge-patch+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}


@pytest.fixture
def api(kube_sandbox):
    base = kube_sandbox.cluster_url("staging")

    def call(method: str, path: str, expect: int = 200, **kwargs):
        response = requests.request(method, base + path, timeout=10, **kwargs)
        assert response.status_code == expect, response.text
        return response.json()

    return call


def test_strategic_merge_patch_merges_containers_and_env_by_name(api):
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "cart", "env": [{"name": "LOG_LEVEL", "value": "debug"}]}
                    ]
                }
            }
        }
    }
    changed = api("PATCH", f"{DEPLOYMENTS}/cart", json=patch, headers=SMP)
    container = changed["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["LOG_LEVEL"] == "debug" and "DATABASE_PASSWORD" in env
    assert container["image"] == "registry.example.com/cart:1.4.0"


def test_merge_patch_and_json_patch_on_a_configmap(api):
    merged = api("PATCH", CONFIGMAP, json={"data": {"features": None, "a": "1"}}, headers=MERGE)
    assert merged["data"] == {"LOG_SAMPLING_RATE": "0.1", "config.json": "{}", "a": "1"}
    ops = [
        {"op": "replace", "path": "/data/a", "value": "2"},
        {"op": "remove", "path": "/data/config.json"},
    ]
    patched = api("PATCH", CONFIGMAP, json=ops, headers=JSON_PATCH)
    assert patched["data"] == {"LOG_SAMPLING_RATE": "0.1", "a": "2"}
    assert int(patched["metadata"]["resourceVersion"]) > int(merged["metadata"]["resourceVersion"])


def test_bad_patches_are_refused_and_change_nothing(api):
    before = api("GET", CONFIGMAP)
    api("PATCH", CONFIGMAP, expect=415, json={"data": {}}, headers={"Content-Type": "text/plain"})
    api("PATCH", CONFIGMAP, expect=400, data=b"{not json", headers=MERGE)
    api(
        "PATCH",
        CONFIGMAP,
        expect=422,
        json=[{"op": "remove", "path": "/data/missing"}],
        headers=JSON_PATCH,
    )
    api("PATCH", CONFIGMAP, expect=422, json={"data": {"n": 5}}, headers=MERGE)
    assert api("GET", CONFIGMAP) == before


def test_strategic_merge_patch_is_refused_on_rollouts(api):
    path = "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout-canary"
    api("PATCH", path, expect=415, json={"spec": {"paused": True}}, headers=SMP)


def test_stale_resource_version_conflicts(api):
    current = api("GET", CONFIGMAP)
    current["data"]["x"] = "1"
    api("PUT", CONFIGMAP, json=current)
    stale = api("PUT", CONFIGMAP, expect=409, json=current)
    assert stale["reason"] == "Conflict"


def test_label_and_field_selectors_filter_lists(api):
    pods = api("GET", "/api/v1/pods", params={"labelSelector": "app.kubernetes.io/name in (cart)"})
    assert {p["metadata"]["labels"]["app.kubernetes.io/name"] for p in pods["items"]} == {"cart"}
    assert len(pods["items"]) == 3
    found = api("GET", DEPLOYMENTS, params={"fieldSelector": "metadata.name=checkout"})
    assert [d["metadata"]["name"] for d in found["items"]] == ["checkout"]


def test_server_side_table_for_kubectl(api):
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    answer = api("GET", DEPLOYMENTS, headers={"Accept": accept})
    assert answer["kind"] == "Table"
    assert [c["name"] for c in answer["columnDefinitions"][:4]] == [
        "Name",
        "Ready",
        "Up-to-date",
        "Available",
    ]
    assert answer["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_scale_below_hpa_minimum_is_raised_back(api):
    api("PATCH", f"{DEPLOYMENTS}/checkout/scale", json={"spec": {"replicas": 1}}, headers=MERGE)
    deadline = time.monotonic() + 10
    while api("GET", f"{DEPLOYMENTS}/checkout")["spec"]["replicas"] != 2:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_watch_streams_changes_until_the_rollout_finishes(kube_sandbox, api):
    api(
        "PATCH",
        f"{DEPLOYMENTS}/cart",
        headers=SMP,
        json={
            "spec": {
                "template": {
                    "metadata": {
                        "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
                    }
                }
            }
        },
    )
    url = kube_sandbox.cluster_url("staging") + DEPLOYMENTS
    params = {"watch": "true", "fieldSelector": "metadata.name=cart", "timeoutSeconds": "15"}
    ready = []
    with requests.get(url, params=params, stream=True, timeout=20) as response:
        for line in response.iter_lines():
            event = json.loads(line)
            status = event["object"]["status"]
            ready.append(status.get("readyReplicas", 0))
            if (
                status.get("updatedReplicas") == 3
                and status["replicas"] == 3
                and status.get("availableReplicas") == 3
            ):
                break
    assert event["type"] == "MODIFIED"
    assert len(ready) > 2  # the first ADDED event, then changes as new pods become ready


def test_deleting_a_deployment_removes_its_replicasets_and_pods(api):
    api("DELETE", f"{DEPLOYMENTS}/cart")
    api("GET", f"{DEPLOYMENTS}/cart", expect=404)
    pods = api(
        "GET",
        "/api/v1/namespaces/shop/pods",
        params={"labelSelector": "app.kubernetes.io/name=cart"},
    )
    assert pods["items"] == []


def test_unknown_cluster_and_resource_are_not_found(kube_sandbox):
    assert requests.get(f"{kube_sandbox.url}/clusters/nope/api", timeout=5).status_code == 404
    missing = requests.get(kube_sandbox.cluster_url("staging") + "/api/v1/widgets", timeout=5)
    assert missing.status_code == 404 and missing.json()["kind"] == "Status"


def test_kubeconfig_has_one_context_per_environment(kube_sandbox):
    config = yaml.safe_load(kube_sandbox.kubeconfig.read_text())
    contexts = {c["name"]: c["context"] for c in config["contexts"]}
    assert set(contexts) == {"staging", "production"}
    servers = {c["name"]: c["cluster"]["server"] for c in config["clusters"]}
    assert servers[contexts["production"]["cluster"]] == kube_sandbox.cluster_url("production")


@pytest.mark.django_db
def test_clusters_are_seeded_from_the_catalog(tmp_path):
    from catalog.models import Component, ComponentEnvironment, Environment
    from sandbox.runner import start_sandbox

    staging = Environment.objects.create(name="staging", kube_namespace="apps")
    production = Environment.objects.create(name="prod", kube_context="prod-eu", is_production=True)
    payments = Component.objects.create(name="payments", tier=Component.Tier.TIER_1)
    search = Component.objects.create(name="search", tier=Component.Tier.TIER_3)
    for environment in (staging, production):
        ComponentEnvironment.objects.create(
            component=payments,
            environment=environment,
            kube_deployment="payments-api",
            kube_rollout="payments-api",
        )
        ComponentEnvironment.objects.create(
            component=search, environment=environment, kube_deployment="search"
        )
    running = start_sandbox(directory=tmp_path, names=["kubernetes"])
    try:
        clusters = running.state.shared["kubernetes"]
        cluster = clusters.get("staging")
        deployment = cluster.store.get("deployments", "apps", "payments-api")
        image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image.startswith("registry.example.com/payments:")
        assert deployment["status"]["readyReplicas"] == deployment["spec"]["replicas"] in (2, 3)
        assert cluster.store.find("horizontalpodautoscalers", "apps", "payments-api") is not None
        assert cluster.store.find("horizontalpodautoscalers", "apps", "search") is None
        assert cluster.store.find("configmaps", "apps", "search-runtime") is not None
        assert cluster.store.find("rollouts", "apps", "payments-api") is not None
        assert clusters.get("prod").store.find("deployments", "default", "search") is not None
        config = yaml.safe_load((tmp_path / "kubeconfig").read_text())
        assert {c["name"] for c in config["contexts"]} == {"staging", "prod-eu"}
    finally:
        running.stop()
