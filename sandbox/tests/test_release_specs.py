"""Every answer of the release sandboxes validates against the official specs in ../shared/specs.

GitHub (OpenAPI 3.0 extract) and Prometheus (OpenAPI 3.1) through openapi-core, request and
response together; Argo CD (swagger 2.0) and the Rollout CRD through jsonschema.
"""

import copy
import json

import jsonschema
import pytest
import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from integrations.tests.conftest import wait_until
from sandbox.demo import app_values, demo_service_names, demo_versions, rollout_config
from sandbox.gitops import gitops_repo
from sandbox.runner import start_sandbox

from .specs import strict, swagger_validator

SERVICE = demo_service_names(1)[0]
TOKEN = {"Authorization": "Bearer switchyard-sandbox"}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    running = start_sandbox(
        directory=tmp_path_factory.mktemp("specs"),
        names=["github", "argocd", "prometheus"],
        shared={"time_scale": 0.05, "demo_services": 4},
    )
    yield running
    running.stop()


def _openapi(document: dict, server: str) -> OpenAPI:
    document = copy.deepcopy(document)
    document["servers"] = [{"url": server}]
    return OpenAPI.from_dict(document)


def _check(spec: OpenAPI, response: requests.Response) -> requests.Response:
    spec.validate_response(
        RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response)
    )
    return response


@pytest.fixture(scope="module")
def github_spec(shared_dir, sandbox):
    path = shared_dir / "specs" / "github" / "api.github.com.2022-11-28.extract.json"
    return _openapi(json.loads(path.read_text()), sandbox.endpoints["github"])


def test_github_answers_match_the_rest_description(sandbox, github_spec):
    base = f"{sandbox.endpoints['github']}/repos/example/{SERVICE}"
    session = requests.Session()
    session.headers.update({**TOKEN, "X-GitHub-Api-Version": "2022-11-28"})
    requests.put(
        f"{sandbox.endpoints['github']}/sandbox/repos/example/{SERVICE}/environments/prod",
        json={"required_reviewers": True},
        timeout=5,
    ).raise_for_status()

    def call(method, path, **kwargs):
        return _check(github_spec, session.request(method, base + path, timeout=5, **kwargs))

    assert call("GET", "/actions/workflows/deploy.yml").status_code == 200
    inputs = {"service": SERVICE, "version": demo_versions(SERVICE)[-1], "release_id": "5"}
    dispatched = call(
        "POST",
        "/actions/workflows/deploy.yml/dispatches",
        json={
            "ref": "main",
            "inputs": {**inputs, "environment": "prod"},
            "return_run_details": True,
        },
    )
    assert dispatched.status_code == 200
    run_id = dispatched.json()["workflow_run_id"]
    plain = call(
        "POST",
        "/actions/workflows/deploy.yml/dispatches",
        json={"ref": "main", "inputs": {**inputs, "environment": "staging"}},
    )
    assert plain.status_code == 204
    assert call("GET", f"/actions/runs/{run_id}").json()["status"] in {"queued", "in_progress"}
    wait_until(lambda: call("GET", f"/actions/runs/{run_id}").json()["status"] == "waiting")
    [pending] = call("GET", f"/actions/runs/{run_id}/pending_deployments").json()
    review = {
        "environment_ids": [pending["environment"]["id"]],
        "state": "approved",
        "comment": "ok",
    }
    assert call("POST", f"/actions/runs/{run_id}/pending_deployments", json=review).ok
    wait_until(lambda: call("GET", f"/actions/runs/{run_id}").json()["conclusion"] == "success")
    wait_until(
        lambda: (
            call("GET", "/actions/runs", params={"status": "success"}).json()["total_count"] == 2
        )
    )
    runs = call("GET", "/actions/runs", params={"per_page": 1})
    assert 'rel="next"' in runs.headers["Link"]
    assert call("GET", "/actions/workflows/deploy.yml/runs").json()["total_count"] == 2
    created = call("POST", "/deployments", json={"ref": "main", "environment": "qa"}).json()
    status = call(
        "POST", f"/deployments/{created['id']}/statuses", json={"state": "success"}
    ).json()
    assert call("GET", f"/deployments/{created['id']}/statuses/{status['id']}").ok
    assert call("GET", f"/deployments/{created['id']}/statuses").json()[0]["state"] == "success"
    assert len(call("GET", "/deployments").json()) == 3  # qa, and one per run
    assert call("GET", f"/deployments/{created['id']}").ok
    assert session.get(f"{base}/actions/runs/1", timeout=5).status_code == 404  # not in the spec


@pytest.fixture(scope="module")
def argocd_schema(shared_dir):
    return swagger_validator(shared_dir / "specs" / "argo-cd" / "swagger.json")


@pytest.fixture(scope="module")
def rollout_schema(shared_dir):
    crd = yaml.safe_load((shared_dir / "specs" / "argo-rollouts" / "rollout-crd.yaml").read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return jsonschema.Draft7Validator(strict(copy.deepcopy(schema))).validate


def test_argocd_answers_match_the_swagger_and_the_rollout_crd(
    sandbox, argocd_schema, rollout_schema
):
    base = f"{sandbox.endpoints['argocd']}/api/v1"
    session = requests.Session()
    session.headers.update(TOKEN)
    name = f"{SERVICE}-prod"
    resource = {"kind": "Rollout", "group": "argoproj.io", "resourceName": SERVICE}

    def rollout():
        answer = session.get(f"{base}/applications/{name}/resource", params=resource, timeout=5)
        argocd_schema(answer.json(), "applicationApplicationResourceResponse")
        obj = json.loads(answer.json()["manifest"])
        rollout_schema(obj)
        return obj

    def application():
        answer = session.get(f"{base}/applications/{name}", timeout=5).json()
        argocd_schema(answer, "v1alpha1Application")
        return answer

    listing = session.get(f"{base}/applications", timeout=5).json()
    argocd_schema(listing, "v1alpha1ApplicationList")
    rollout()  # whatever state the GitHub test's release left it in
    gitops = gitops_repo(sandbox.state)
    for version, strategy in (("9.0.0", "canary"), ("9.1.0", "bluegreen")):
        values = app_values(SERVICE, "prod", version, "5", rollout_config(strategy))
        gitops.write(SERVICE, "prod", values, f"Deploy {version}")

        def paused_at_new_version(version=version):
            application()  # validated in every state it passes through
            obj = rollout()
            return obj["status"].get("pauseConditions") and version in json.dumps(obj["spec"])

        wait_until(paused_at_new_version)
        tree = session.get(f"{base}/applications/{name}/resource-tree", timeout=5).json()
        argocd_schema(tree, "v1alpha1ApplicationTree")
        assert {node["kind"] for node in tree["nodes"]} == {"Rollout", "ReplicaSet", "Pod"}
        actions = session.get(f"{base}/applications/{name}/resource/actions", params=resource)
        argocd_schema(actions.json(), "applicationResourceActionsListResponse")
        done = session.post(
            f"{base}/applications/{name}/resource/actions", params=resource, json="abort"
        )
        argocd_schema(done.json(), "applicationApplicationResponse")
        assert rollout()["status"]["phase"] == "Degraded"
        assert application()["status"]["health"]["status"] == "Degraded"
    synced = session.post(f"{base}/applications/{name}/sync", json={"name": name}, timeout=5)
    argocd_schema(synced.json(), "v1alpha1Application")
    refused = session.post(f"{base}/applications/{name}/sync", json={"name": name}, timeout=5)
    assert refused.status_code == 400
    argocd_schema(refused.json(), "runtimeError")
    login = requests.post(
        f"{base}/session", json={"username": "admin", "password": "sandbox"}, timeout=5
    )
    argocd_schema(login.json(), "sessionSessionResponse")
    missing = session.get(f"{base}/applications/nothing", timeout=5)
    assert missing.status_code == 404
    argocd_schema(missing.json(), "runtimeError")


def test_the_argocd_check_refuses_unknown_fields_and_bad_times(argocd_schema):
    good = {"metadata": {"name": "a"}, "status": {"health": {"status": "Healthy"}}}
    argocd_schema(good, "v1alpha1Application")
    for bad in (
        {"metadata": {"name": "a"}, "status": {"health": {"status": "Healthy", "colour": "x"}}},
        {"metadata": {"name": "a", "creationTimestamp": "yesterday"}},
        {"status": {"resources": [{"kind": "Rollout", "helth": {}}]}},
    ):
        with pytest.raises(AssertionError):
            argocd_schema(bad, "v1alpha1Application")
    node = {"kind": "Pod", "name": "p", "images": ["x:1"], "parentRefs": [{"kind": "ReplicaSet"}]}
    argocd_schema({"nodes": [node]}, "v1alpha1ApplicationTree")  # ResourceRef's fields count


@pytest.fixture(scope="module")
def prometheus_spec(shared_dir, sandbox):
    path = shared_dir / "specs" / "prometheus" / "openapi_3.1_golden.yaml"
    return _openapi(yaml.safe_load(path.read_text()), f"{sandbox.endpoints['prometheus']}/api/v1")


def test_prometheus_answers_match_the_openapi_description(sandbox, prometheus_spec):
    base = f"{sandbox.endpoints['prometheus']}/api/v1"
    # The series describe what runs: ask about the version the dev cluster runs.
    dev = gitops_repo(sandbox.state).applications()[1][(SERVICE, "dev")]["image"]["tag"]
    matcher = f'service="{SERVICE}",environment="dev",version="{dev}"'
    ratio = (
        f'sum(rate(http_requests_total{{{matcher},code=~"5.."}}[1m]))'
        f" / sum(rate(http_requests_total{{{matcher}}}[1m]))"
    )
    by_version = ratio.replace("sum(", "sum by (version) (").replace(f',version="{dev}"', "")
    rate = f'sum(rate(http_requests_total{{service="{SERVICE}"}}[5m]))'
    for query in (ratio, by_version, rate):
        instant = _check(prometheus_spec, requests.get(f"{base}/query", params={"query": query}))
        assert instant.json()["data"]["resultType"] == "vector"
        ranged = _check(
            prometheus_spec,
            requests.post(
                f"{base}/query_range",
                data={"query": query, "start": 1_700_000_000, "end": 1_700_000_600, "step": "15s"},
            ),
        )
        assert ranged.json()["data"]["result"][0]["values"]
    bad = _check(prometheus_spec, requests.get(f"{base}/query", params={"query": "up"}))
    assert bad.json()["errorType"] == "bad_data"
