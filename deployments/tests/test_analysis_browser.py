"""A person watches the analysis decide, live in the browser, against the sandbox: a canary whose
version errors (the Prometheus sandbox's bad-version knob) is aborted by itself with the values
shown; a healthy one soaks, passes and waits for the approval."""

import pytest
import requests

from approvals.models import ApprovalRequest
from deployments.analysis.tasks import analysis_tick
from deployments.models import AnalysisPolicy, Release
from deployments.releases.tasks import releases_tick
from deployments.tests.beat import beat_running
from integrations.tests.conftest import wait_until

from . import test_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
shop = test_browser.shop  # a team, its service, staging and a gated prod
SERVICE = test_browser.SERVICE


@pytest.fixture
def beat():
    """Beat's two ticks every half second (releases and analysis)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("several threads write at once here: run with DATABASE_URL=postgres://...")
    with beat_running(releases_tick, analysis_tick):
        yield


def analysis_policy(name: str, **extra) -> None:
    from catalog.models import Environment

    values = {"min_requests": 1, "interval_seconds": 1, "max_p99_latency_ms": 900} | extra
    AnalysisPolicy.objects.create(environment=Environment.objects.get(name=name), **values)


def test_a_canary_whose_version_errors_is_aborted_with_the_values_shown(
    login_page, live_server, shop, beat, release_sandbox
):
    analysis_policy("staging", soak_seconds=600)
    page = login_page(shop["owner"])
    version = test_browser.release_from_service_page(page, live_server, shop, "staging", "canary")
    page.locator(".release-status", has_text="Paused at 5%").wait_for(timeout=40_000)
    requests.post(
        f"{release_sandbox.endpoints['prometheus']}/sandbox/bad-version",
        json={"service": SERVICE, "version": version},
        timeout=5,
    ).raise_for_status()
    page.locator(".release-status .badge-bad", has_text="Aborted").wait_for(timeout=40_000)
    assert "machine:analysis aborted" in page.locator(".release-status").inner_text()
    analysis = page.locator("[data-testid=analysis]")
    analysis.locator("[data-testid=verdict]", has_text="Fail").wait_for(timeout=15_000)
    text = analysis.inner_text()
    assert "Canary errors" in text and "p99 latency" in text  # the values behind the verdict
    assert "error rate" in text or "p99 " in text  # and what failed
    assert analysis.locator("circle.analysis-dot-fail").count() >= 1


def test_a_healthy_canary_soaks_passes_and_waits_for_the_approval(
    login_page, live_server, shop, beat, chromium_browser, password
):
    analysis_policy("prod", soak_seconds=20)  # long enough to see it on both pages
    page = login_page(shop["owner"])
    test_browser.release_from_service_page(page, live_server, shop, "prod", "canary")
    page.locator(".release-status", has_text="Paused at 5%").wait_for(timeout=40_000)
    # Soaking: the release page counts down, and the approval is not offered yet.
    soak = page.locator("[data-testid=release-soak]")
    soak.wait_for(timeout=20_000)
    assert "s left before the approval is offered" in soak.inner_text()
    release = Release.objects.get()
    approval = wait_until(lambda: ApprovalRequest.objects.filter(release=release).first())
    colleague = signed_in(chromium_browser, live_server, shop["colleague"], password)
    colleague.goto(f"{live_server.url}{approval.get_absolute_url()}")
    decision = colleague.locator("#approval-decision")
    decision.locator("[data-testid=approval-soak]").wait_for()
    assert "s left before the approval is offered" in decision.inner_text()
    assert decision.get_by_role("button", name="Abort").count() == 1
    assert decision.get_by_role("button", name="Approve: go on to 25%").count() == 0
    analysis = page.locator("[data-testid=analysis]")
    analysis.locator("[data-testid=analysis-step-0][data-outcome=passed]").wait_for(timeout=40_000)
    assert "Pass" in analysis.locator("[data-testid=verdict]").inner_text()
    assert "p99 latency" in analysis.inner_text()
    release.refresh_from_db()
    assert (release.state, release.current_step) == ("paused", 0)  # the approvers decide
    page.goto(f"{live_server.url}{shop['component'].get_absolute_url()}")
    page.locator("#approvals", has_text="canary first step verified").wait_for()
    # Soaked and passed: the approval page offers Approve by itself (it polled while soaking).
    approve = decision.get_by_role("button", name="Approve: go on to 25%")
    approve.wait_for(timeout=20_000)
    approve.click()
    colleague.locator("#toasts", has_text="Decision recorded").wait_for()
    colleague.context.close()  # its panels stop polling the live server
    wait_until(lambda: Release.objects.get(pk=release.pk).current_step == 1, timeout=40)


def signed_in(browser, live_server, user, password):
    """A second person's page, signed in through the login form."""
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", user.username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{live_server.url}/")
    return page
