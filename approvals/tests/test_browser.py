"""The second person aborts at the approval page: the release stops, the workflow run fails.

Same set-up as deployments/tests/test_browser.py (whose fixtures this reuses): the sandbox runs
the deploy workflow, which asks Switchyard for the approval with the shipped example client; a
background thread plays beat (`beat` and `shop` come through conftest.py); Celery tasks run
eagerly after commit.
"""

import pytest

from approvals.models import ApprovalRequest
from deployments.tests.test_browser import SERVICE, release_from_service_page
from integrations.github import github_client
from integrations.tests.conftest import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(browser, live_server, username):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", "correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def test_colleague_aborts_at_the_approval_page(
    login_page, live_server, shop, beat, chromium_browser
):
    page = login_page(shop["owner"])
    release_from_service_page(page, live_server, shop, "prod", "canary")
    page.locator(".release-status", has_text="Paused at 5%").wait_for(timeout=40_000)
    approval = wait_until(lambda: ApprovalRequest.objects.first(), timeout=30)

    context, other = sign_in(chromium_browser, live_server, "camila")
    other.goto(f"{live_server.url}{approval.get_absolute_url()}")
    other.fill("textarea[name=comment]", "error rate climbing on the canary")
    other.click("button[value=abort]")
    decision = other.locator("#approval-decision").inner_text()
    assert "Aborted by camila" in decision and "error rate climbing on the canary" in decision
    context.close()

    page.goto(f"{live_server.url}{approval.release.get_absolute_url()}")
    status = page.locator(".release-status")
    status.locator(".badge-bad", has_text="Aborted").wait_for(timeout=30_000)
    text = status.inner_text()
    # Who stopped it and why, and what happened to the traffic.
    assert "camila aborted" in text and "error rate climbing on the canary" in text
    assert "back to the stable version" in text
    release = approval.release
    release.refresh_from_db()
    run = wait_until(
        lambda: (
            (
                r := github_client().workflow_run_get(f"example/{SERVICE}", release.workflow_run_id)
            ).completed
            and r
        ),
        timeout=30,
    )
    assert run.conclusion == "failure"
