"""One world: a GitOps commit is what changes the cluster, and Prometheus reports what runs."""

import pytest
import requests

from integrations.tests.conftest import wait_until
from sandbox.demo import app_values, demo_service_names, rollout_config
from sandbox.gitops import gitops_repo
from sandbox.runner import start_sandbox

SERVICE = demo_service_names(2)[1]


@pytest.fixture
def world(tmp_path, settings):
    settings.SANDBOX_KUBERNETES_SEED = False
    running = start_sandbox(
        directory=tmp_path,
        names=["argocd", "kubernetes", "prometheus"],
        shared={"time_scale": 0.05, "demo_services": 2},
    )
    yield running
    running.stop()


def _query(world, query: str) -> dict[str, float]:
    answer = requests.get(
        f"{world.endpoints['prometheus']}/api/v1/query", params={"query": query}, timeout=5
    ).json()
    return {r["metric"].get("version", ""): float(r["value"][1]) for r in answer["data"]["result"]}


def _rollout(world, environment: str) -> dict:
    cluster = world.state.shared["kubernetes"].get(environment)
    with cluster.lock:
        cluster.advance()
        return cluster.store.get("rollouts", "default", SERVICE)


def test_a_commit_changes_the_cluster_and_the_series_follow_the_canary_weight(world):
    gitops = gitops_repo(world.state)
    stable = gitops.applications()[1][(SERVICE, "prod")]["image"]["tag"]
    rollout = _rollout(world, "prod")  # applied at start, before anyone asked Argo CD
    assert rollout["spec"]["template"]["spec"]["containers"][0]["image"].endswith(f":{stable}")
    values = app_values(SERVICE, "prod", "9.0.0", "1", rollout_config("canary", "20,pause,100"))
    gitops.write(SERVICE, "prod", values, "Deploy 9.0.0")
    wait_until(lambda: _rollout(world, "prod")["status"].get("phase") == "Paused", timeout=10)
    matcher = f'service="{SERVICE}",environment="prod"'
    rate = f"sum by (version) (rate(http_requests_total{{{matcher}}}[1m]))"
    rates = _query(world, rate)
    assert set(rates) == {stable, "9.0.0"}
    assert rates["9.0.0"] / (rates["9.0.0"] + rates[stable]) == pytest.approx(0.2)
    assert (
        _query(world, rate.replace('environment="prod"', 'environment="prod",version="1.0.0"'))
        == {}
    )
    ratio = (
        f'sum(rate(http_requests_total{{service="{SERVICE}",environment="prod",code=~"5.."}}[1m]))'
        f' / sum(rate(http_requests_total{{service="{SERVICE}",environment="prod"}}[1m]))'
    )
    before = _query(world, ratio)[""]
    requests.post(
        f"{world.endpoints['prometheus']}/sandbox/bad-version",
        json={"service": SERVICE, "version": "9.0.0"},
        timeout=5,
    ).raise_for_status()
    by_version = ratio.replace("sum(", "sum by (version) (")
    wait_until(lambda: _query(world, by_version)["9.0.0"] > 0.15, timeout=10)
    errors = _query(world, by_version)
    assert errors[stable] < 0.02
    # A fifth of the requests go to the bad version: the service's ratio rises by about that.
    assert before < _query(world, ratio)[""] == pytest.approx(errors["9.0.0"] * 0.2, rel=0.3)
