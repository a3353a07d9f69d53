"""Answers of the Kubernetes sandbox validate against the official OpenAPI v3 specs and the
Argo Rollouts CRD schema (../shared/specs), with unknown fields refused so that a misspelt field
fails."""

import copy
import json
import time

import pytest
import requests
import yaml
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from .specs import strict

APPS = "kubernetes/apis__apps__v1_openapi.json"
CORE = "kubernetes/api__v1_openapi.json"
AUTOSCALING = "kubernetes/apis__autoscaling__v2_openapi.json"
PREFIX = "io.k8s.apimachinery.pkg.apis.meta.v1"


@pytest.fixture(scope="module")
def validate(shared_dir):
    """validate(spec_file, schema_name, body): raises with every error found."""
    cache = {}

    def validator(spec_file: str, name: str) -> Draft4Validator:
        if spec_file not in cache:
            document = strict(json.loads((shared_dir / "specs" / spec_file).read_text()))
            resource = Resource.from_contents(document, default_specification=DRAFT4)
            cache[spec_file] = Registry().with_resource("urn:spec", resource)
        ref = {"$ref": f"urn:spec#/components/schemas/{name}"}
        return Draft4Validator(ref, registry=cache[spec_file])

    def check(spec_file: str, name: str, body: dict) -> None:
        errors = sorted(validator(spec_file, name).iter_errors(body), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])

    return check


@pytest.fixture(scope="module")
def rollout_schema(shared_dir):
    crd = yaml.safe_load((shared_dir / "specs" / "argo-rollouts" / "rollout-crd.yaml").read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
    return Draft4Validator(strict(copy.deepcopy(version["schema"]["openAPIV3Schema"])))


@pytest.fixture
def api(kube_sandbox):
    base = kube_sandbox.cluster_url("staging")

    def call(method: str, path: str, expect: int = 200, **kwargs):
        response = requests.request(method, base + path, timeout=10, **kwargs)
        assert response.status_code == expect, response.text
        return response.json()

    return call


DEPLOYMENTS = "/apis/apps/v1/namespaces/shop/deployments"


def test_deployment_and_lists_validate(api, validate):
    validate(APPS, "io.k8s.api.apps.v1.Deployment", api("GET", f"{DEPLOYMENTS}/checkout"))
    validate(APPS, "io.k8s.api.apps.v1.DeploymentList", api("GET", DEPLOYMENTS))
    validate(APPS, "io.k8s.api.apps.v1.DeploymentList", api("GET", "/apis/apps/v1/deployments"))
    validate(APPS, "io.k8s.api.apps.v1.ReplicaSetList", api("GET", "/apis/apps/v1/replicasets"))


def test_deployment_mid_rollout_validates_with_pending_pods(api, validate):
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "cart", "image": "registry.example.com/cart:1.5.0"}]
                }
            }
        }
    }
    headers = {"Content-Type": "application/strategic-merge-patch+json"}
    changed = api("PATCH", f"{DEPLOYMENTS}/cart", json=patch, headers=headers)
    validate(APPS, "io.k8s.api.apps.v1.Deployment", changed)
    assert changed["metadata"]["generation"] == 2
    pods = api(
        "GET",
        "/api/v1/namespaces/shop/pods",
        params={"labelSelector": "app.kubernetes.io/name=cart"},
    )
    assert any(p["status"]["phase"] == "Pending" for p in pods["items"])
    validate(CORE, "io.k8s.api.core.v1.PodList", pods)
    validate(APPS, "io.k8s.api.apps.v1.Deployment", api("GET", f"{DEPLOYMENTS}/cart"))


def test_scale_subresource_validates(api, validate):
    validate(APPS, "io.k8s.api.autoscaling.v1.Scale", api("GET", f"{DEPLOYMENTS}/cart/scale"))
    patched = api(
        "PATCH",
        f"{DEPLOYMENTS}/cart/scale",
        json={"spec": {"replicas": 4}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    validate(APPS, "io.k8s.api.autoscaling.v1.Scale", patched)
    assert patched["spec"]["replicas"] == 4


def test_hpa_validates_with_current_metrics(api, validate):
    hpa = api("GET", "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/checkout")
    validate(AUTOSCALING, "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler", hpa)
    assert hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] > 0
    listed = api("GET", "/apis/autoscaling/v2/horizontalpodautoscalers")
    validate(AUTOSCALING, "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerList", listed)


def test_configmap_secret_and_pods_validate(api, validate):
    validate(
        CORE,
        "io.k8s.api.core.v1.ConfigMap",
        api("GET", "/api/v1/namespaces/shop/configmaps/cart-runtime"),
    )
    validate(CORE, "io.k8s.api.core.v1.ConfigMapList", api("GET", "/api/v1/configmaps"))
    validate(CORE, "io.k8s.api.core.v1.SecretList", api("GET", "/api/v1/namespaces/shop/secrets"))
    validate(CORE, "io.k8s.api.core.v1.PodList", api("GET", "/api/v1/pods"))
    validate(CORE, "io.k8s.api.core.v1.NamespaceList", api("GET", "/api/v1/namespaces"))


def test_error_statuses_validate(api, validate):
    missing = api("GET", f"{DEPLOYMENTS}/nope", expect=404)
    validate(APPS, f"{PREFIX}.Status", missing)
    assert (missing["reason"], missing["code"]) == ("NotFound", 404)
    current = api("GET", f"{DEPLOYMENTS}/cart")
    stale = copy.deepcopy(current)
    stale["metadata"]["resourceVersion"] = "1"
    conflict = api("PUT", f"{DEPLOYMENTS}/cart", expect=409, json=stale)
    validate(APPS, f"{PREFIX}.Status", conflict)
    assert conflict["reason"] == "Conflict"
    current["spec"]["replicas"] = -1
    invalid = api("PUT", f"{DEPLOYMENTS}/cart", expect=422, json=current)
    validate(APPS, f"{PREFIX}.Status", invalid)
    assert invalid["details"]["causes"][0]["field"] == "spec.replicas"
    exists = api(
        "POST",
        "/api/v1/namespaces/shop/configmaps",
        expect=409,
        json={"metadata": {"name": "cart-runtime"}, "data": {}},
    )
    validate(CORE, f"{PREFIX}.Status", exists)
    assert exists["reason"] == "AlreadyExists"


def test_discovery_documents_validate(api, validate):
    validate(
        "kubernetes/version_openapi.json",
        "io.k8s.apimachinery.pkg.version.Info",
        api("GET", "/version"),
    )
    validate("kubernetes/api_openapi.json", f"{PREFIX}.APIVersions", api("GET", "/api"))
    validate("kubernetes/apis__apps_openapi.json", f"{PREFIX}.APIGroup", api("GET", "/apis/apps"))
    validate(CORE, f"{PREFIX}.APIResourceList", api("GET", "/api/v1"))
    validate(APPS, f"{PREFIX}.APIResourceList", api("GET", "/apis/apps/v1"))
    validate(APPS, f"{PREFIX}.APIResourceList", api("GET", "/apis/argoproj.io/v1alpha1"))
    groups = api("GET", "/apis")
    for group in groups["groups"]:
        validate("kubernetes/apis__apps_openapi.json", f"{PREFIX}.APIGroup", group)


ROLLOUT = "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout-canary"


def _assert_rollout_valid(schema, body):
    errors = sorted(schema.iter_errors(body), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_rollout_validates_healthy_paused_and_aborted(api, rollout_schema, kube_sandbox):
    _assert_rollout_valid(rollout_schema, api("GET", ROLLOUT))
    merge = {"Content-Type": "application/merge-patch+json"}
    patch = {"spec": {"template": {"metadata": {"annotations": {"release": "2"}}}}}
    api("PATCH", ROLLOUT, json=patch, headers=merge)
    deadline = time.monotonic() + 10
    while (rollout := api("GET", ROLLOUT))["status"]["phase"] != "Paused":
        assert time.monotonic() < deadline, rollout["status"]
        time.sleep(0.1)
    _assert_rollout_valid(rollout_schema, rollout)
    assert rollout["status"]["pauseConditions"][0]["reason"] == "CanaryPauseStep"
    aborted = api("PATCH", f"{ROLLOUT}/status", json={"status": {"abort": True}}, headers=merge)
    _assert_rollout_valid(rollout_schema, aborted)
    assert aborted["status"]["phase"] == "Degraded"
    listed = api("GET", "/apis/argoproj.io/v1alpha1/rollouts")
    for item in listed["items"]:
        _assert_rollout_valid(rollout_schema, item)
    scale = api("GET", f"{ROLLOUT}/scale")
    assert scale["spec"]["replicas"] == 3
