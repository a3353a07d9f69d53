"""The shipped Kubernetes manifests for running Switchyard itself (deploy/kubernetes/) validate
against the Kubernetes OpenAPI in ../shared/specs, strictly, and apply to the Kubernetes sandbox
through the official client."""

from pathlib import Path

import pytest
import yaml
from kubernetes import client, config, utils

from .test_kubernetes_spec import APPS, CORE, validate  # noqa: F401

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes" / "switchyard.yaml"
SCHEMAS = {
    "ConfigMap": (CORE, "io.k8s.api.core.v1.ConfigMap"),
    "Secret": (CORE, "io.k8s.api.core.v1.Secret"),
    "Service": (CORE, "io.k8s.api.core.v1.Service"),
    "Deployment": (APPS, "io.k8s.api.apps.v1.Deployment"),
}


def _documents() -> list[dict]:
    return [doc for doc in yaml.safe_load_all(MANIFESTS.read_text()) if doc]


def test_manifests_validate_against_the_kubernetes_openapi(validate):  # noqa: F811
    documents = _documents()
    kinds = sorted(doc["kind"] for doc in documents)
    assert kinds == [
        "ConfigMap",
        "Deployment",
        "Deployment",
        "Deployment",
        "Job",
        "Secret",
        "Service",
    ]
    for doc in documents:
        if doc["kind"] == "Job":
            # ../shared/specs has no batch/v1 document: check what the core one describes.
            validate(CORE, "io.k8s.api.core.v1.PodTemplateSpec", doc["spec"]["template"])
            validate(CORE, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", doc["metadata"])
            assert set(doc["spec"]) <= {"backoffLimit", "ttlSecondsAfterFinished", "template"}
            continue
        validate(*SCHEMAS[doc["kind"]], doc)
    beat = next(d for d in documents if d["metadata"]["name"] == "switchyard-beat")
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"] == {"type": "Recreate"}


def test_manifests_apply_to_the_kubernetes_sandbox(kube_sandbox):
    api_client = config.new_client_from_config(str(kube_sandbox.kubeconfig), context="staging")
    for doc in _documents():
        utils.create_from_dict(api_client, doc, namespace="switchyard")
    cluster = kube_sandbox.clusters.get("staging")
    cluster.settle()
    apps = client.AppsV1Api(api_client)
    ready = {
        d.metadata.name: (d.spec.replicas, d.status.ready_replicas)
        for d in apps.list_namespaced_deployment("switchyard").items
    }
    assert ready == {
        "switchyard-web": (2, 2),
        "switchyard-worker": (2, 2),
        "switchyard-beat": (1, 1),
    }
    job = client.BatchV1Api(api_client).read_namespaced_job("switchyard-migrate", "switchyard")
    assert job.spec.template.spec.containers[0].command[-2:] == ["migrate", "--noinput"]
    service = client.CoreV1Api(api_client).read_namespaced_service("switchyard-web", "switchyard")
    assert service.spec.ports[0].target_port == "http"
    secret = client.CoreV1Api(api_client).read_namespaced_secret("switchyard-secrets", "switchyard")
    assert set(secret.data) >= {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"}


@pytest.mark.parametrize("name", ["switchyard-web", "switchyard-worker", "switchyard-beat"])
def test_every_process_reads_config_and_secrets(name):
    doc = next(d for d in _documents() if d["metadata"]["name"] == name)
    env_from = doc["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert env_from == [
        {"configMapRef": {"name": "switchyard-config"}},
        {"secretRef": {"name": "switchyard-secrets"}},
    ]
