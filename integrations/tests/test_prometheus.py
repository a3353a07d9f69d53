import pytest
import requests

from integrations.errors import IntegrationError
from integrations.prometheus import error_ratio_query, prometheus_client
from sandbox.gitops import gitops_repo

from .conftest import wait_until

SERVICE = "payments-ledger-0"


def _running(sandbox, environment: str) -> str:
    """The version the environment's cluster runs (the series describe what runs)."""
    return gitops_repo(sandbox.state).applications()[1][(SERVICE, environment)]["image"]["tag"]


def test_error_rate_series_is_a_small_healthy_ratio(release_sandbox):
    version = _running(release_sandbox, "dev")
    series = prometheus_client().error_rate_series(SERVICE, version, 10, environment="dev")
    assert 55 <= len(series) <= 62
    assert all(0 < value < 0.02 for _, value in series)
    timestamps = [sample.timestamp for sample in series]
    assert timestamps == sorted(timestamps)


def test_bad_version_knob_makes_only_that_version_climb(release_sandbox):
    client = prometheus_client()
    bad, good = _running(release_sandbox, "dev"), _running(release_sandbox, "staging")
    before = client.error_rate_now(SERVICE, bad)
    requests.post(
        f"{release_sandbox.endpoints['prometheus']}/sandbox/bad-version",
        json={"service": SERVICE, "version": bad},
        timeout=5,
    ).raise_for_status()
    climbed = wait_until(lambda: (rate := client.error_rate_now(SERVICE, bad)) > 0.15 and rate)
    assert climbed > 10 * before
    assert client.error_rate_now(SERVICE, good) < 0.02
    assert client.error_rate_now(SERVICE, "0.0.1") is None  # runs nowhere: no traffic
    series = client.error_rate_series(SERVICE, bad, 5)
    assert series[0].value < 0.02 < 0.15 < series[-1].value


def test_label_values_are_checked_before_querying():
    with pytest.raises(IntegrationError):
        error_ratio_query('x"}) or vector(1', "1.0.0")


def test_unsupported_query_is_bad_data(release_sandbox):
    url = f"{release_sandbox.endpoints['prometheus']}/api/v1/query"
    answer = requests.get(url, params={"query": "up"}, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["status"] == "error"
    assert answer.json()["errorType"] == "bad_data"


def test_query_range_refuses_too_many_points(release_sandbox):
    url = f"{release_sandbox.endpoints['prometheus']}/api/v1/query_range"
    query = error_ratio_query("a", "1.0.0")
    answer = requests.post(
        url, data={"query": query, "start": 0, "end": 100_000, "step": 1}, timeout=5
    )
    assert answer.status_code == 400
    assert "11,000 points" in answer.json()["error"]


def test_server_error_is_transient(release_sandbox, arm_fault):
    arm_fault("prometheus", path="/api/v1/query_range", count=1, kind="error", status=503)
    with pytest.raises(IntegrationError) as caught:
        prometheus_client().error_rate_series("a", "1.0.0", 5)
    assert caught.value.transient
    assert prometheus_client().error_rate_series("a", "1.0.0", 5)


def test_latency_p99_comes_from_the_histogram_and_climbs_for_a_bad_version(release_sandbox):
    client = prometheus_client()
    bad, good = _running(release_sandbox, "dev"), _running(release_sandbox, "staging")
    p99 = client.latency_quantile_now(
        SERVICE, bad, metric="http_request_duration_seconds", environment="dev"
    )
    assert 0.05 < p99 < 0.25
    requests.post(
        f"{release_sandbox.endpoints['prometheus']}/sandbox/bad-version",
        json={"service": SERVICE, "version": bad},
        timeout=5,
    ).raise_for_status()
    slow = wait_until(
        lambda: (
            (
                v := client.latency_quantile_now(
                    SERVICE, bad, metric="http_request_duration_seconds", environment="dev"
                )
            )
            > 5 * p99
            and v
        )  # fmt: skip
    )
    assert slow < 3
    assert (
        client.latency_quantile_now(
            SERVICE, good, metric="http_request_duration_seconds", environment="staging"
        )
        < 0.25
    )
    assert client.request_rate_now(SERVICE, bad, environment="dev") > 5


def test_series_exist_only_for_metrics_prometheus_has(release_sandbox):
    client = prometheus_client()
    assert client.series_exist("http_request_duration_seconds_bucket", environment="prod")
    assert not client.series_exist("grpc_server_handling_seconds_bucket", environment="prod")
    with pytest.raises(IntegrationError):
        client.series_exist("not a metric")


def test_one_batch_answers_many_canaries_and_agrees_with_the_single_queries(release_sandbox):
    client = prometheus_client()
    services = [f"payments-ledger-{n}" for n in range(4)] + ["runs-nowhere"]
    versions = {_running(release_sandbox, "dev"), "0.0.1"}
    requests.post(
        f"{release_sandbox.endpoints['prometheus']}/sandbox/bad-version",
        json={"service": SERVICE, "version": _running(release_sandbox, "dev")},
        timeout=5,
    ).raise_for_status()
    numbers = client.canary_numbers_now(
        services,
        sorted(versions),
        environment="dev",
        latency_metric="http_request_duration_seconds",
    )
    dev = _running(release_sandbox, "dev")
    assert (SERVICE, dev) in numbers["error_rate"]
    assert (SERVICE, "0.0.1") not in numbers["request_rate"]  # runs nowhere: no series
    single = client.error_rate_now(SERVICE, dev, environment="dev")
    assert numbers["error_rate"][(SERVICE, dev)] == pytest.approx(single, rel=0.05, abs=0.01)
    rate = client.request_rate_now(SERVICE, dev, environment="dev")
    assert numbers["request_rate"][(SERVICE, dev)] == pytest.approx(rate, rel=0.1)
    assert 0.05 < numbers["latency"][(SERVICE, dev)] < 20


def test_batch_values_are_checked_and_escaped():
    from integrations.prometheus import canaries_matchers

    selector = canaries_matchers(["cart", "a.b"], ["1.2.0"], "prod")
    assert selector == r'environment="prod",service=~"a\\.b|cart",version=~"1\\.2\\.0"'
    with pytest.raises(IntegrationError):
        canaries_matchers(['x"}'], ["1"], "prod")
