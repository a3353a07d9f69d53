"""Issue 15's journey: a canary pauses, bob hears of it in the portal and in the team's Slack
channel, the approval page shows the evidence (logs canary vs stable, on-call, incidents on the
blast radius), an ineligible Slack user is refused, bob approves from Slack, and the Slack
message and the page both show the decision.

One connected sandbox world: the GitHub sandbox runs the deploy workflow, which asks Switchyard
for the approval; Argo CD applies it to the Kubernetes sandbox, whose pods Loki and Prometheus
report; PagerDuty knows the services; Slack holds the channel and sends the signed clicks to
this live server. A background thread plays beat; Celery tasks run eagerly after commit.
"""

from datetime import UTC, datetime, timedelta

import pytest

from approvals.models import ApprovalPolicy, ApprovalRequest
from catalog.models import Component, ComponentEnvironment, Dependency, Environment, Team
from deployments.releases.tasks import releases_tick
from deployments.tests.beat import beat_running
from deployments.tests.test_browser import SERVICE, release_from_service_page
from integrations.tests.conftest import TIME_SCALE, wait_until
from portal.models import TeamMembership
from portal.tests.browser_session import signed_in
from sandbox.runner import start_sandbox
from sandbox.slack import SIGNING_SECRET, TOKEN
from sandbox.tests.fixtures import PagerDutyWorld, SlackWorld

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def beat():
    with beat_running(releases_tick):
        yield


@pytest.fixture
def world(tmp_path, settings, live_server):
    from sandbox.tls import ca_path

    running = start_sandbox(
        directory=tmp_path,
        names=["github", "argocd", "prometheus", "loki", "pagerduty", "slack"],
        shared={"time_scale": TIME_SCALE, "demo_services": 8},
    )
    settings.INTEGRATION_URLS = dict(running.endpoints)
    settings.GITHUB_TOKEN = settings.ARGOCD_TOKEN = "switchyard-sandbox"
    settings.PAGERDUTY_TOKEN, settings.PAGERDUTY_EVENTS_URL = "switchyard-sandbox", ""
    settings.PAGERDUTY_CA_BUNDLE = str(ca_path(tmp_path))
    settings.SLACK_BOT_TOKEN, settings.SLACK_SIGNING_SECRET = TOKEN, SIGNING_SECRET
    settings.INTEGRATION_TIMEOUT_SECONDS = 5
    settings.SITE_URL = live_server.url
    yield running
    running.stop()


@pytest.fixture
def shop(world, make_user, live_server):
    """payments owns the service (Slack #payments); storefront depends on it (its blast
    radius) and has an open incident; Alice is on call; olivia releases, bob approves, oscar
    (search) may not."""
    from sandbox.switchyard import sandbox_machine_credentials

    team = Team.objects.create(name="payments", title="Payments", chat_channel="#payments")
    pd = PagerDutyWorld(world, world.endpoints["pagerduty"])
    services = _paging(pd)
    component = Component.objects.create(
        name=SERVICE, owner=team, repository=f"https://github.com/example/{SERVICE}",
        annotations={"pagerduty.com/service-id": services["service"]["id"]},
    )  # fmt: skip
    storefront = Component.objects.create(
        name="storefront", owner=team,
        annotations={"pagerduty.com/service-id": services["storefront"]["id"]},
    )  # fmt: skip
    Dependency.objects.create(source=storefront, target=component)
    prod = Environment.objects.create(name="prod", order=3, is_production=True)
    ComponentEnvironment.objects.create(
        component=component, environment=prod, argocd_application=f"{SERVICE}-prod"
    )
    ApprovalPolicy.objects.create(environment=prod)
    world.state.shared["switchyard_machine"] = sandbox_machine_credentials()
    olivia = make_user("olivia", email="olivia@example.com")
    bob = make_user("bob", email="bob@example.com")
    oscar = make_user("oscar", email="oscar@example.com")
    for user in (olivia, bob):
        TeamMembership.objects.create(user=user, team=team)
    TeamMembership.objects.create(user=oscar, team=Team.objects.create(name="search"))
    slack = SlackWorld(world, world.endpoints["slack"])
    slack.channel("payments")
    ids = {name: slack.user(f"{name}@example.com", name)["id"] for name in ("bob", "oscar")}
    slack.control("POST", "config", interactivity_url=f"{live_server.url}/api/slack/interactions/")
    return {"component": component, "owner": olivia, "bob": bob, "slack": slack, "ids": ids}


def _paging(pd: PagerDutyWorld) -> dict:
    rest = pd.rest()
    alice = rest.rpost("users", json={"user": {"name": "Alice", "email": "alice@example.com"}})
    policy = rest.rpost("escalation_policies", json={"escalation_policy": {"name": "Payments"}})
    services = {
        name: rest.rpost("services", json={"service": {"name": name, "escalation_policy": {
            "id": policy["id"], "type": "escalation_policy_reference"}}})
        for name in ("service", "storefront")
    }  # fmt: skip
    now = datetime.now(UTC)
    pd.oncall(policy["id"], alice["id"], now - timedelta(hours=1), now + timedelta(hours=8))
    pd.rest(sender="alice@example.com").rpost("incidents", json={"incident": {
        "type": "incident", "title": "storefront checkout slow", "urgency": "low",
        "service": {"id": services["storefront"]["id"], "type": "service_reference"},
    }})  # fmt: skip
    return services


def test_bob_hears_of_the_paused_canary_and_approves_it_from_slack(
    live_server,
    shop,
    beat,
    chromium_browser,
):
    context, page = signed_in(chromium_browser, live_server, shop["owner"])
    release_from_service_page(page, live_server, shop, "prod", "canary")
    page.locator(".release-status", has_text="Paused at 5%").wait_for(timeout=40_000)
    approval = wait_until(lambda: ApprovalRequest.objects.first(), timeout=30)
    context.close()
    slack = shop["slack"]
    message = wait_until(lambda: (slack.messages("payments") or [None])[0], timeout=30)
    assert f"Approve {SERVICE} in prod?" in message["text"]
    assert f"<@{shop['ids']['bob']}>" in str(message["blocks"])  # bob is asked by name

    # bob: the bell, the notification, the approval page with the evidence
    context, bob = signed_in(chromium_browser, live_server, shop["bob"])
    bob.goto(f"{live_server.url}/")
    bob.locator("#bell [data-unread]").wait_for()
    bob.locator("#bell").click()
    bob.get_by_role("link", name=f"Approve {SERVICE} in prod?").click()
    bob.wait_for_url(f"**{approval.get_absolute_url()}")
    logs = bob.get_by_test_id("release-logs")
    logs.locator(".logs-side[data-side='new']").wait_for()
    assert logs.locator(".logs-side[data-side='stable']").count() == 1
    bob.get_by_test_id("on-call").get_by_text("Alice").wait_for()
    bob.locator("#panel-incidents").get_by_text("storefront checkout slow").wait_for()
    assert "Slack #payments: request posted" in bob.get_by_test_id("slack-deliveries").inner_text()

    # in Slack: oscar (another team) is refused, then bob approves
    refused = slack.interact(user=shop["ids"]["oscar"], channel="payments", ts=message["ts"],
                             action_id="approval_approve")  # fmt: skip
    assert refused["status"] == 200
    assert refused["responses"][0]["text"].startswith("Refused: Only Payments and SREs")
    approval.refresh_from_db()
    assert approval.state == "pending"
    approved = slack.interact(user=shop["ids"]["bob"], channel="payments", ts=message["ts"],
                              action_id="approval_approve")  # fmt: skip
    assert "Approved" in approved["responses"][0]["text"]

    # both show the decision: the Slack message (updated in place) and the page
    updated = slack.messages("payments")[0]
    assert "approved* by bob (from Slack)" in str(updated["blocks"])
    assert not [b for b in updated["blocks"] for e in b.get("elements") or []
                if e.get("action_id") == "approval_approve"]  # fmt: skip
    bob.reload()
    decision = bob.locator("#approval-decision")
    decision.get_by_text("Approved by bob").wait_for()
    assert decision.get_by_test_id("decided-via").inner_text() == "from Slack"
    context.close()
