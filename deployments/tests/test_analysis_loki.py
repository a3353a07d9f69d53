"""Error log lines per minute from Loki in the analysis, against one sandbox world (Kubernetes,
Prometheus, Loki): the Loki sandbox logs errors at the rate Prometheus gives a version, so a
version marked bad there logs errors here too."""

import time

import pytest
import requests
from django.urls import reverse

from deployments.analysis import services
from deployments.analysis.evaluate import evaluate_many
from deployments.models import AnalysisPolicy, AnalysisStep, Release
from sandbox.tests.fixtures import log_world  # noqa: F401

from .test_analysis_admin import platform_admin, policy_form  # noqa: F401

pytestmark = pytest.mark.django_db
RUNS = "1.4.0"  # what the world's ledger runs (the canary's version here: Prometheus has series)


def canary(component, environment) -> Release:
    return Release.objects.create(
        component=component, environment=environment, version=RUNS, previous_version="1.3.0",
        strategy="canary", canary_steps=[5, 100], state="paused", current_step=0, set_weight=5,
        actual_weight=5,
    )  # fmt: skip


def only_logs_decide(environment, limit=5) -> AnalysisPolicy:
    """Error rate thresholds out of the way: only the error log lines can fail the step."""
    return AnalysisPolicy.objects.create(
        environment=environment, max_error_rate=1.0, max_error_rate_vs_stable=None,
        max_error_log_lines_per_minute=limit, min_requests=1, soak_seconds=600,
    )  # fmt: skip


def decisions(releases):
    services.analysis_steps_open()
    steps = list(
        AnalysisStep.objects.filter(release__in=releases).select_related(
            "release__component", "release__environment__analysis_policy"
        )
    )
    found = evaluate_many(steps)
    return {step.release.environment.name: found[step.pk] for step in steps}


def test_a_version_that_logs_errors_fails_on_the_error_log_threshold(
    log_world,  # noqa: F811
    ledger,
    environments,
):
    staging_row = ledger.deployments.get(environment=environments["staging"])
    staging_row.log_selector = 'cluster="$environment", app=~"$workload(-canary)?"'
    staging_row.save()  # a selector of another shape: counted by a query of its own
    releases = []
    for env in environments.values():
        only_logs_decide(env)
        releases.append(canary(ledger, env))
    healthy = decisions(releases)
    for name in ("staging", "prod"):
        assert healthy[name].verdict == "pass", healthy[name]
        assert healthy[name].values["error_log_lines_per_minute"] <= 5
    # Marked bad two minutes ago: the last minute of its logs is full of errors.
    log_world.running.state.shared["prometheus"].bad[("ledger", RUNS)] = time.time() - 120
    failed = decisions(releases)
    for name in ("staging", "prod"):
        assert failed[name].verdict == "fail", failed[name]
        lines = failed[name].values["error_log_lines_per_minute"]
        assert lines > 5 and f"{lines:g} error log lines/min > 5" in failed[name].message


def test_loki_unreachable_is_inconclusive_with_since_never_pass(
    log_world,  # noqa: F811
    ledger,
    environments,
):
    only_logs_decide(environments["prod"])
    release = canary(ledger, environments["prod"])
    requests.post(
        f"{log_world.endpoints['loki']}/sandbox/faults",
        json={"path": "/loki/api/v1/query_range", "kind": "error", "status": 503},
        timeout=5,
    ).raise_for_status()
    decision = decisions([release])["prod"]
    assert decision.verdict == "inconclusive"
    assert decision.message.startswith("inconclusive (no data since") and "Loki" in decision.message


def test_an_error_log_threshold_is_saved_when_loki_has_the_version_label(
    client,
    platform_admin,  # noqa: F811
    log_world,  # noqa: F811
    environments,
):
    client.force_login(platform_admin)
    data = policy_form(
        environments["prod"], max_p99_latency_ms="", max_error_log_lines_per_minute=10
    )
    response = client.post(reverse("admin:deployments_analysispolicy_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    environments["staging"].log_version_label = "image_tag"
    environments["staging"].save()
    data = policy_form(
        environments["staging"], max_p99_latency_ms="", max_error_log_lines_per_minute=10
    )
    html = client.post(reverse("admin:deployments_analysispolicy_add"), data).content.decode()
    assert "Loki has no label &#x27;image_tag&#x27;" in html
    assert AnalysisPolicy.objects.count() == 1
