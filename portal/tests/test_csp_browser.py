"""Every page type under the real Content-Security-Policy in Chromium: no violation anywhere.

A `securitypolicyviolation` listener is installed before any page script runs; each page is
opened, left until its htmx panels have loaded, and the collected violations must be none.
"""

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " at " +
                    (e.sourceFile || "") + ":" + (e.lineNumber || 0));
});
"""
OPENAPI = """openapi: 3.0.3
info: {title: Ledger, version: "1"}
paths:
  /v1/entries/{id}:
    get:
      operationId: getEntry
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
"""


def _world():
    """The demo organisation plus one release, one approval and one API version."""
    from django.contrib.auth import get_user_model

    from apidocs.services import api_definition_get_or_create, api_version_create
    from approvals.models import ApprovalRequest
    from catalog.models import Component, Environment
    from deployments.models import Release, TuningKey

    call_command("seed_demo", services=4, stdout=open("/dev/null", "w"))  # noqa: SIM115
    User = get_user_model()
    admin_user, bob = User.objects.get(username="admin"), User.objects.get(username="bob")
    component = Component.objects.filter(owner__isnull=False).order_by("pk").first()
    prod = Environment.objects.get(name="prod")
    release = Release.objects.create(
        component=component, environment=prod, version="1.3.0", requested_by=bob
    )
    approval = ApprovalRequest.objects.create(
        component=component, environment=prod, rollout_phase="canary 5%", weight=5,
        requested_by=bob, requester_label="bob", from_version="1.2.0", to_version="1.3.0",
        expires_at=timezone.now() + timezone.timedelta(minutes=30),
    )  # fmt: skip
    api = api_definition_get_or_create(
        actor=admin_user, component=component, name="ledger", kind="openapi"
    )
    version = api_version_create(actor=admin_user, api=api, files={"openapi.yaml": OPENAPI})
    team = component.owner
    return {
        "component": component, "release": release, "approval": approval, "version": version,
        "team": team, "tuning_key": TuningKey.objects.first(),
    }  # fmt: skip


def _pages(world) -> list[str]:
    c, v, team = world["component"], world["version"], world["team"]
    kind = c.entity_kind.lower()
    return [
        reverse("portal:dashboard"),
        reverse("portal:search") + "?q=pay",
        reverse("portal:audit_list"),
        reverse("portal:team_members", args=[team.metadata_namespace, team.name]),
        reverse("catalog:home"),
        reverse("catalog:component_list"),
        reverse("catalog:team_detail", args=[team.metadata_namespace, team.name]),
        reverse("catalog:component_detail", args=[c.metadata_namespace, kind, c.name]),
        reverse("deployments:release_list"),
        reverse("deployments:dora_organisation"),
        reverse("deployments:dora_team", args=[team.metadata_namespace, team.name]),
        reverse("deployments:release_detail", args=[world["release"].pk]),
        reverse("deployments:release_start", args=[c.pk]),
        reverse("deployments:tuning_page", args=[c.pk]),
        reverse("approvals:inbox"),
        reverse("approvals:approval_detail", args=[world["approval"].pk]),
        reverse("apidocs:api_list"),
        reverse("apidocs:symbol_search") + "?q=entry",
        reverse("apidocs:api_detail", args=[v.definition.pk]),
        reverse("apidocs:version_detail", args=[v.definition.pk, v.number]),
        reverse("apidocs:tryit", args=[v.definition.pk, v.number]),
        "/no-such-page/",
        "/search/?q=%00",
        reverse("admin:index"),
        reverse("admin:catalog_component_changelist"),
        reverse("admin:catalog_component_change", args=[c.pk]),
        reverse("admin:approvals_approvalpolicy_changelist"),
    ]


def _violations(page, url) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__csp")


def test_no_page_violates_the_content_security_policy(chromium_browser, live_server):
    world = _world()
    context = chromium_browser.new_context()
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        found = {"/accounts/login/": _violations(page, f"{live_server.url}/accounts/login/")}
        page.fill("input[name=login]", "admin")
        page.fill("input[name=password]", "switchyard-demo")
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(f"{live_server.url}/")
        policy = page.request.get(f"{live_server.url}/").headers["content-security-policy"]
        # The nonce appears only in responses that use one; none of ours needs inline code.
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        for path in _pages(world):
            found[path] = _violations(page, f"{live_server.url}{path}")
    finally:
        context.close()
    assert {path: v for path, v in found.items() if v} == {}
    assert len(found) == len(_pages(world)) + 1
