"""The Loki sandbox answers Loki's HTTP API shapes over the pods that run in the clusters."""

import time

import requests

ERRORS = (
    'sum by (version) (count_over_time({cluster="prod", app=~"ledger.*"}'
    ' | json | level="error" [1m]))'
)


def get(world, path, **params):
    return requests.get(f"{world.endpoints['loki']}{path}", params=params, timeout=10)


def test_labels_and_values_describe_the_running_pods(log_world):
    labels = get(log_world, "/loki/api/v1/labels").json()
    assert labels["status"] == "success"
    assert {"cluster", "namespace", "app", "pod", "version"} <= set(labels["data"])
    assert not [name for name in labels["data"] if name.startswith("_")]
    versions = get(log_world, "/loki/api/v1/label/version/values").json()["data"]
    assert versions == ["1.4.0", "1.5.0"]
    clusters = get(log_world, "/loki/api/v1/label/cluster/values").json()["data"]
    assert clusters == ["prod", "staging"]


def test_a_log_query_answers_streams_newest_first_within_the_limit(log_world):
    now = time.time()
    body = get(
        log_world, "/loki/api/v1/query_range",
        query='{cluster="staging", app="ledger"} |= "GET"', limit=7,
        start=int((now - 300) * 1e9), end=int(now * 1e9),
    ).json()  # fmt: skip
    assert body["data"]["resultType"] == "streams"
    values = [v for s in body["data"]["result"] for v in s["values"]]
    assert len(values) == 7
    stamps = sorted((int(ts) for ts, _ in values), reverse=True)
    assert stamps[0] <= now * 1e9 and stamps[-1] >= (now - 300) * 1e9
    pods = {s["stream"]["pod"] for s in body["data"]["result"]}
    assert all(p.startswith("ledger-") for p in pods)
    assert {s["stream"]["cluster"] for s in body["data"]["result"]} == {"staging"}


def test_json_stage_turns_fields_into_labels_that_filter(log_world):
    body = get(
        log_world, "/loki/api/v1/query_range",
        query='{cluster="prod", app="ledger"} | json | level="warn"', limit=20,
    ).json()  # fmt: skip
    streams = body["data"]["result"]
    assert streams and all(s["stream"]["level"] == "warn" for s in streams)
    assert all('"level":"warn"' in line for s in streams for _, line in s["values"])


def test_a_version_marked_bad_in_prometheus_logs_errors_from_then_on(log_world):
    log_world.running.state.shared["time_scale"] = 0.001  # the ramp takes no time
    now = time.time()
    log_world.mark_bad("ledger", "1.5.0", minutes_ago=5)
    before = count_by_version(log_world, now - 900, now - 301)
    after = count_by_version(log_world, now - 299, now)
    # one canary pod writes ~150 lines in 5 minutes: healthy under 1 %, bad 20-30 %
    assert before.get("1.5.0", 0) <= 6
    assert 15 <= after["1.5.0"] <= 60
    # the stable version (3 pods, ~450 lines) is untouched by the canary's fault
    assert after.get("1.4.0", 0) <= 15
    lines = get(
        log_world, "/loki/api/v1/query_range",
        query='{cluster="prod", version="1.5.0"} | json | level="error"', limit=5,
    ).json()["data"]["result"]  # fmt: skip
    assert lines and all(s["stream"]["version"] == "1.5.0" for s in lines)


def count_by_version(world, start, end) -> dict[str, float]:
    body = get(
        world, "/loki/api/v1/query_range", query=ERRORS,
        start=int(start * 1e9), end=int(end * 1e9), step=60,
    ).json()  # fmt: skip
    assert body["data"]["resultType"] == "matrix"
    return {
        s["metric"]["version"]: sum(float(v) for _, v in s["values"])
        for s in body["data"]["result"]
    }


def test_matrix_points_are_seconds_and_string_values(log_world):
    now = time.time()
    body = get(
        log_world, "/loki/api/v1/query_range",
        query='sum by (cluster) (count_over_time({app="ledger"} [1m]))',
        start=int((now - 300) * 1e9), end=int(now * 1e9), step="60s",
    ).json()  # fmt: skip
    series = {s["metric"]["cluster"]: s["values"] for s in body["data"]["result"]}
    assert set(series) == {"staging", "prod"}
    for at, value in series["staging"]:
        assert isinstance(at, float | int) and now - 301 <= at <= now + 1
        assert isinstance(value, str) and 80 <= float(value) <= 100  # 3 pods, a line per 2 s


def test_bad_queries_are_refused_as_loki_does(log_world):
    for query in ('{cluster="prod"', "{}", '{app=~".*"}', 'avg_over_time({app="x"} [1m])'):
        answer = get(log_world, "/loki/api/v1/query_range", query=query)
        assert answer.status_code == 400, query
        assert "parse error" in answer.text, answer.text
    too_many = get(log_world, "/loki/api/v1/query_range", query='{app="ledger"}', limit=10_000)
    assert too_many.status_code == 400 and "max entries limit" in too_many.text
    instant = get(log_world, "/loki/api/v1/query", query='{app="ledger"}')
    assert instant.status_code == 400


def test_a_stopped_pod_writes_no_more_lines(log_world):
    cluster = log_world.clusters.get("staging")
    with cluster.lock:
        pods = cluster.store.list("pods", "default")
        for pod in pods:
            pod["status"]["phase"] = "Failed"
            cluster.store.update(
                "pods", "default", pod["metadata"]["name"], pod,
                subresource="status", check_version=False,
            )  # fmt: skip
    body = get(log_world, "/loki/api/v1/query_range", query='{cluster="staging"}').json()
    assert body["data"]["result"] == []
