"""Analysis policies in the admin: platform admins only, audited, and refused on save with the
reason when Prometheus cannot measure them (asked for real: the Prometheus sandbox)."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from catalog.models import Environment
from deployments.models import AnalysisPolicy, Release
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db
ADD = "admin:deployments_analysispolicy_add"


@pytest.fixture
def platform_admin(make_user):
    user = make_user("pia", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="platform-admin")[0])
    return user


def policy_form(environment, **extra):
    data = {
        "environment": environment.pk,
        "max_error_rate": 0.05,
        "max_error_rate_vs_stable": 3,
        "max_p99_latency_ms": 500,
        "latency_metric": "http_request_duration_seconds",
        "max_error_log_lines_per_minute": "",
        "min_requests": 100,
        "interval_seconds": 10,
        "soak_seconds": 120,
    }
    return data | extra


def test_platform_admin_adds_a_policy_prometheus_can_evaluate_and_it_is_audited(
    client, platform_admin, release_sandbox
):
    prod = Environment.objects.create(name="prod", is_production=True)
    client.force_login(platform_admin)
    response = client.post(reverse(ADD), policy_form(prod))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert AnalysisPolicy.objects.get().max_p99_latency_ms == 500
    event = AuditEvent.objects.get(action="analysis_policy.admin_add")
    assert event.actor == platform_admin and event.after["max_p99_latency_ms"] == "500"


def test_a_p99_threshold_without_a_histogram_is_refused_with_the_reason(
    client, platform_admin, release_sandbox
):
    prod = Environment.objects.create(name="prod", is_production=True)
    client.force_login(platform_admin)
    data = policy_form(prod, latency_metric="grpc_server_handling_seconds")
    response = client.post(reverse(ADD), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "no latency histogram grpc_server_handling_seconds_bucket in prod" in html
    assert not AnalysisPolicy.objects.exists()
    assert not AuditEvent.objects.filter(action="analysis_policy.admin_add").exists()


def test_prometheus_down_refuses_a_latency_threshold_with_what_to_do(
    client, platform_admin, arm_fault
):
    arm_fault("prometheus", path="/api/v1/series", kind="error", status=503)
    prod = Environment.objects.create(name="prod", is_production=True)
    client.force_login(platform_admin)
    html = client.post(reverse(ADD), policy_form(prod)).content.decode()
    assert "try again when it answers, or leave the p99 threshold empty" in html
    assert not AnalysisPolicy.objects.exists()


def test_error_log_threshold_needs_loki(client, platform_admin, release_sandbox):
    prod = Environment.objects.create(name="prod", is_production=True)
    client.force_login(platform_admin)
    data = policy_form(prod, max_p99_latency_ms="", max_error_log_lines_per_minute=10)
    html = client.post(reverse(ADD), data).content.decode()
    assert "Loki is not configured" in html and not AnalysisPolicy.objects.exists()


def test_staff_sre_may_read_but_not_add_policies(client, make_user, release_sandbox):
    sre = make_user("sam", is_staff=True)
    sre.groups.add(Group.objects.get_or_create(name="sre")[0])
    prod = Environment.objects.create(name="prod")
    client.force_login(sre)
    url = reverse("admin:deployments_analysispolicy_changelist")
    assert client.get(url).status_code == 200
    response = client.post(reverse(ADD), policy_form(prod))
    assert response.status_code == 403 and not AnalysisPolicy.objects.exists()


def test_analysis_panel_is_hidden_from_anonymous_and_absent_for_rolling(client, make_user):
    from catalog.models import Component

    env = Environment.objects.create(name="staging")
    component = Component.objects.create(name="ledger")
    canary = Release.objects.create(
        component=component, environment=env, version="1.0.0", strategy="canary"
    )
    url = reverse("deployments:panel_analysis", args=[canary.pk])
    assert client.get(url).status_code in (302, 404)
    client.force_login(make_user("vera"))
    html = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "has no analysis policy" in html
    rolling = Release.objects.create(
        component=component, environment=env, version="1.0.1", state="succeeded"
    )
    assert "panel-analysis" in client.get(canary.get_absolute_url()).content.decode()
    assert "panel-analysis" not in client.get(rolling.get_absolute_url()).content.decode()
