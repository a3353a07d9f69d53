"""The logs cards against the Loki sandbox: what they show, to whom, and when Loki fails."""

from urllib.parse import unquote

import pytest
import requests
from django.urls import reverse

from catalog.models import Environment
from integrations.tests.conftest import wait_until

HX = {"HTTP_HX_REQUEST": "true"}


def service_card(client, component) -> str:
    url = reverse("logs:panel_service_logs", args=[component.pk])
    response = client.get(url, **HX)
    assert response.status_code == 200
    return response.content.decode()


def release_card(client, release) -> str:
    response = client.get(reverse("logs:panel_release_logs", args=[release.pk]), **HX)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, marker: str) -> str:
    start = html.index(marker)
    end = html.find('<div class="logs-', start + len(marker))
    return html[start : end if end > 0 else None]


def test_service_card_counts_error_lines_per_environment_and_version(
    log_world, client, owner, canary
):
    log_world.running.state.shared["time_scale"] = 0.001
    log_world.mark_bad("ledger", "1.5.0", minutes_ago=15)
    client.force_login(owner)
    html = service_card(client, canary.component)
    assert "<html" not in html
    prod = section(html, 'data-environment="prod"')
    if "<code>1.4.0</code>" in prod:  # the version with the most errors comes first
        assert prod.index("<code>1.5.0</code>") < prod.index("<code>1.4.0</code>")
    canary_errors = int(prod.split("<code>1.5.0</code>: <strong>")[1].split("<")[0])
    assert canary_errors >= 60  # a fifth of the pod's ~450 lines in 15 minutes at least
    assert "log-error" in prod
    staging = section(html, 'data-environment="staging"')
    assert "1.5.0" not in staging


def test_secrets_in_lines_are_redacted_before_display(log_world, client, owner, canary):
    log_world.running.state.shared["time_scale"] = 0.001
    log_world.mark_bad("ledger", "1.5.0", minutes_ago=15)
    client.force_login(owner)
    html = release_card(client, canary)
    assert html.count("log-error") >= 10
    assert "[REDACTED]" in html
    for leak in ("sk_live_", "Bearer eyJ", ':5432/ledger"'):
        assert leak not in html


def test_release_card_sets_the_new_version_beside_the_stable_one(
    log_world, client, owner, canary, settings
):
    settings.GRAFANA_URL = "https://grafana.example.com"
    log_world.running.state.shared["time_scale"] = 0.001
    log_world.mark_bad("ledger", "1.5.0", minutes_ago=15)
    client.force_login(owner)
    html = release_card(client, canary)
    new, stable = section(html, 'data-side="new"'), section(html, 'data-side="stable"')
    assert 'data-version="1.5.0"' in new and 'data-version="1.4.0"' in stable
    assert html.count("<polyline") == 2
    assert new.count("<details>") == 1  # the latest three, the rest expandable
    new_errors = int(new.split("</svg>")[1].split("<strong>")[1].split("<")[0])
    stable_errors = int(stable.split("</svg>")[1].split("<strong>")[1].split("<")[0])
    assert new_errors > stable_errors
    explore = unquote(new.split('href="https://grafana.example.com/explore?')[1].split('"')[0])
    assert 'version=\\"1.5.0\\"' in explore and '"from":"now-15m"' in explore
    assert 'level=~\\"error|fatal|critical\\"' in explore


def test_limits_on_lines_and_their_length(log_world, client, owner, canary, settings):
    settings.LOGS_MAX_LINES = 2
    settings.LOGS_MAX_LINE_CHARS = 40
    log_world.running.state.shared["time_scale"] = 0.001
    log_world.mark_bad("ledger", "1.5.0", minutes_ago=15)
    client.force_login(owner)
    html = release_card(client, canary)
    new = section(html, 'data-side="new"')
    assert new.count('<li class="log-line') == 2 and "<details>" not in new
    assert new.count("…</code>") == 2


def shows_lines(fetch) -> str:
    """The card once it lists error lines. Loki is asked again while the answer has none: under
    load a query can outlast LOKI_TIMEOUT_SECONDS (the card then says Loki could not be asked)."""

    def listed() -> str:
        html = fetch()
        return html if '<li class="log-line' in html else ""

    return wait_until(listed)


def test_production_logs_are_for_the_owning_team_and_sres(
    log_world, client, outsider, sre, canary, settings
):
    # Healthy pods log an error now and then (0.2-1 % of their lines, as the dice fall): whether
    # staging has one in the last 15 minutes is chance. Stable 1.4.0 errors for 15 minutes, so
    # both environments have error lines to show (or to hide) whenever the test runs.
    log_world.running.state.shared["time_scale"] = 0.001
    log_world.mark_bad("ledger", "1.4.0", minutes_ago=15)
    client.force_login(outsider)
    html = shows_lines(lambda: service_card(client, canary.component))
    assert "readable by the owning team and SREs only" in section(html, 'data-environment="prod"')
    assert '<li class="log-line' in section(html, 'data-environment="staging"')
    refused = release_card(client, canary)
    assert (
        "readable by the owning team and SREs only" in refused
        and '<li class="log-line' not in refused
    )
    client.force_login(sre)
    shows_lines(lambda: release_card(client, canary))
    client.force_login(outsider)
    settings.LOGS_PRODUCTION_ACCESS = "everyone"
    shows_lines(lambda: release_card(client, canary))
    Environment.objects.filter(name="staging").update(log_access="owners")
    html = service_card(client, canary.component)
    assert "readable by the owning team" in section(html, 'data-environment="staging"')


def test_loki_down_or_slow_the_card_says_so_and_the_pages_render(
    log_world, client, owner, canary, settings
):
    client.force_login(owner)
    log_world.arm_fault("loki", kind="error", status=503)
    html = release_card(client, canary)
    assert "Loki could not be asked" in html and "tries again by itself" in html
    assert "Grafana Explore or kubectl logs" in html
    assert client.get(canary.get_absolute_url()).status_code == 200
    assert client.get(canary.component.get_absolute_url()).status_code == 200
    requests.delete(f"{log_world.endpoints['loki']}/sandbox/faults", timeout=5)
    settings.LOKI_TIMEOUT_SECONDS = 0.3
    log_world.arm_fault("loki", kind="timeout", seconds=1.5)
    html = service_card(client, canary.component)
    assert html.count("Loki could not be asked") == 2 and "timed out" in html


def test_a_selector_loki_refuses_points_at_the_catalog(log_world, client, owner, canary):
    Environment.objects.filter(name="staging").update(log_selector='app=~".*"')
    client.force_login(owner)
    html = service_card(client, canary.component)
    staging = section(html, 'data-environment="staging"')
    assert "Loki refused the query" in staging and "log selector" in staging


def test_no_loki_configured_is_a_message_not_an_error(client, owner, ledger):
    client.force_login(owner)
    html = service_card(client, ledger)
    assert html.count("LOKI_URL") == 2


@pytest.mark.parametrize("page", ["service", "release", "approval"])
def test_pages_load_the_cards_lazily_with_their_refresh(client, owner, canary, page):
    from approvals.models import ApprovalRequest
    from portal.tests.test_panels import _approval

    client.force_login(owner)
    if page == "service":
        url, card = canary.component.get_absolute_url(), "logs"
        fragment, every = reverse("logs:panel_service_logs", args=[canary.component.pk]), 60
    else:
        subject = canary
        if page == "approval":
            subject = _approval(canary.component, canary.environment, owner, release=canary)
            assert isinstance(subject, ApprovalRequest)
        url, card = subject.get_absolute_url(), "release-logs"
        fragment, every = reverse("logs:panel_release_logs", args=[canary.pk]), 30
    html = client.get(url).content.decode()
    assert f'id="panel-{card}"' in html
    assert f'hx-get="{fragment}"' in html and f'href="{fragment}"' in html
    assert f'hx-trigger="load, every {every}s"' in html


def test_anonymous_people_are_sent_to_sign_in(client, canary):
    response = client.get(reverse("logs:panel_release_logs", args=[canary.pk]))
    assert response.status_code == 302
