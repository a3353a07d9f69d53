"""A person releases through the pages, against the sandbox, and watches it move live.

A background thread plays beat (`releases_tick` every half second), the Celery tasks run eagerly
after commit, and the sandbox speeds its clock up twentyfold.
"""

import pytest

from approvals.models import ApprovalPolicy, ApprovalRequest
from catalog.models import Component, ComponentEnvironment, Environment, Team
from deployments.releases.tasks import releases_tick
from deployments.tests.beat import beat_running
from portal.models import TeamMembership
from sandbox.demo import demo_service_names

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SERVICE = demo_service_names(8)[0]


@pytest.fixture
def beat():
    with beat_running(releases_tick):
        yield


@pytest.fixture
def shop(release_sandbox, make_user, settings, live_server):
    from sandbox.switchyard import sandbox_machine_credentials

    settings.SITE_URL = live_server.url
    team = Team.objects.create(name="payments", title="Payments")
    component = Component.objects.create(
        name=SERVICE, owner=team, repository=f"https://github.com/example/{SERVICE}"
    )
    staging = Environment.objects.create(name="staging", order=2)
    prod = Environment.objects.create(name="prod", order=3, is_production=True)
    for env in (staging, prod):
        ComponentEnvironment.objects.create(
            component=component, environment=env, argocd_application=f"{SERVICE}-{env.name}"
        )
    ApprovalPolicy.objects.create(environment=prod)
    release_sandbox.state.shared["switchyard_machine"] = sandbox_machine_credentials()
    owner, colleague = make_user("olivia"), make_user("camila", first_name="Camila")
    for user in (owner, colleague):
        TeamMembership.objects.create(user=user, team=team)
    return {"component": component, "owner": owner, "colleague": colleague}


def release_from_service_page(page, live_server, shop, environment, strategy):
    page.goto(f"{live_server.url}{shop['component'].get_absolute_url()}")
    page.get_by_role("link", name="Release a version…").click()
    page.select_option("select[name=environment]", label=environment)
    newest = page.locator("#versions option").first.get_attribute("value")
    page.fill("input[name=version]", newest)
    page.select_option("select[name=strategy]", strategy)
    page.fill("textarea[name=reason]", "weekly release")
    page.get_by_role("button", name="Start release").click()
    page.wait_for_url("**/releases/*/")
    return newest


def test_release_to_staging_progresses_live_to_done(login_page, live_server, shop, beat):
    page = login_page(shop["owner"])
    version = release_from_service_page(page, live_server, shop, "staging", "rolling")
    assert page.locator("h1").inner_text().endswith(f"{version} → staging")
    status = page.locator(".release-status")
    # No reload: htmx polls the status fragment until the release is done.
    status.locator(".badge-ok", has_text="Succeeded").wait_for(timeout=40_000)
    timeline = status.locator(".timeline").inner_text()
    assert "Workflow run" in timeline and "live and healthy" in timeline
    assert "every 2s" not in status.evaluate("el => el.outerHTML")  # polling stopped


def test_canary_to_production_waits_for_approval_then_finishes(
    login_page, live_server, shop, beat, chromium_browser
):
    page = login_page(shop["owner"])
    release_from_service_page(page, live_server, shop, "prod", "canary")
    page.locator(".release-status", has_text="Paused at 5%").wait_for(timeout=40_000)
    page.goto(f"{live_server.url}{shop['component'].get_absolute_url()}")
    page.locator("#approvals", has_text="canary first step verified").wait_for()
    page.locator("#approvals a").first.click()
    assert "You asked for this release" in page.content()  # the requester cannot approve

    context = chromium_browser.new_context()
    other = context.new_page()
    other.set_default_timeout(30_000)
    other.goto(f"{live_server.url}/accounts/login/")
    other.fill("input[name=login]", "camila")
    other.fill("input[name=password]", "correct-horse-battery-staple")
    other.get_by_role("button", name="Sign in", exact=True).click()
    other.wait_for_url(f"{live_server.url}/")
    other.get_by_role("link", name="Approvals").click()
    other.get_by_role("link", name=SERVICE).click()
    other.locator(".error-rates").wait_for()  # error rates beside the decision
    other.fill("textarea[name=comment]", "error rates flat")
    other.click("button[value=approve]")
    assert "Approved by camila" in other.locator("#approval-decision").inner_text()
    context.close()

    approval = ApprovalRequest.objects.get()
    page.goto(f"{live_server.url}{approval.release.get_absolute_url()}")
    page.locator(".release-status .badge-ok", has_text="Succeeded").wait_for(timeout=60_000)


def test_abort_from_the_release_page(login_page, live_server, shop, beat):
    page = login_page(shop["owner"])
    release_from_service_page(page, live_server, shop, "staging", "canary")
    page.locator(".release-status", has_text="Paused at 5%").wait_for(timeout=40_000)
    page.locator("summary", has_text="Abort this release").click()
    page.fill(".release-status textarea[name=reason]", "error rate climbing")
    page.click("button.danger")
    status = page.locator(".release-status")
    status.locator(".badge-bad", has_text="Aborted").wait_for()
    assert "back to the stable version" in status.inner_text()
