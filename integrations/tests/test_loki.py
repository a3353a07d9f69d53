"""The Loki adapter against the Loki sandbox: lines, counts, labels, and failures."""

import time

import pytest

from integrations.errors import IntegrationError
from integrations.loki import (
    count_query,
    log_query,
    loki_client,
    stream_selector,
)


def test_selector_and_queries_quote_every_value():
    selector = stream_selector([("app", "=", 'le"dger'), ("version", "=~", "1\\.4\\..*")])
    assert selector == '{app="le\\"dger", version=~"1\\\\.4\\\\..*"}'
    query = log_query(selector, contains=("timeout",), levels=("error",))
    assert query.endswith(' |= "timeout" | json | level=~"error"')
    assert count_query(query, by=("version",)).startswith("sum by (version) (count_over_time(")
    with pytest.raises(IntegrationError):
        stream_selector([("app-name", "=", "x")])
    with pytest.raises(IntegrationError):
        stream_selector([])


def test_lines_come_newest_first_with_their_stream_labels(log_world):
    now = time.time()
    selector = stream_selector([("cluster", "=", "prod"), ("app", "=", "ledger")])
    lines = loki_client().lines(log_query(selector), start=now - 120, end=now, limit=10)
    assert len(lines) == 10
    assert [line.timestamp for line in lines] == sorted((x.timestamp for x in lines), reverse=True)
    assert all(now - 121 <= line.timestamp <= now for line in lines)
    assert {line.label("version") for line in lines} == {"1.4.0"}
    assert all(line.line.startswith("{") for line in lines)


def test_counts_by_version_and_labels(log_world):
    log_world.running.state.shared["time_scale"] = 0.001
    log_world.mark_bad("ledger", "1.5.0", minutes_ago=10)
    now = time.time()
    client = loki_client()
    selector = stream_selector([("cluster", "=", "prod"), ("app", "=~", "ledger.*")])
    series = client.counts(
        count_query(log_query(selector, levels=("error",)), by=("version",)),
        start=now - 300, end=now, step=60,
    )  # fmt: skip
    totals = {s.label("version"): s.total for s in series}
    assert totals["1.5.0"] > totals.get("1.4.0", 0)
    assert "version" in client.labels()
    assert client.label_values("cluster") == ["prod", "staging"]
    with pytest.raises(IntegrationError):
        client.label_values("no-such label")


def test_a_bad_query_is_a_permanent_error_with_lokis_message(log_world):
    with pytest.raises(IntegrationError) as caught:
        loki_client().lines('{app="ledger"', start=time.time() - 60, end=time.time(), limit=5)
    assert not caught.value.transient and caught.value.status == 400
    assert "parse error" in caught.value.message


def test_loki_down_or_slow_is_a_transient_error(log_world, settings):
    log_world.arm_fault("loki", kind="error", status=503, count=1)
    client = loki_client()
    with pytest.raises(IntegrationError) as caught:
        client.labels()
    assert caught.value.transient and caught.value.status == 503
    settings.LOKI_TIMEOUT_SECONDS = 0.3
    log_world.arm_fault("loki", kind="timeout", seconds=1.5, count=1)
    with pytest.raises(IntegrationError) as caught:
        loki_client().labels()
    assert caught.value.transient and "timed out" in caught.value.message


def test_an_answer_larger_than_the_limit_is_refused_not_read(log_world, settings):
    settings.LOGS_MAX_ANSWER_BYTES = 2_000
    with pytest.raises(IntegrationError) as caught:
        loki_client().lines('{app="ledger"}', start=time.time() - 600, end=time.time(), limit=500)
    assert "larger than 2000 bytes" in caught.value.message and not caught.value.transient


def test_no_address_is_a_clear_configuration_error(settings):
    settings.INTEGRATION_URLS = {}
    with pytest.raises(IntegrationError) as caught:
        loki_client()
    assert "LOKI_URL" in str(caught.value)
