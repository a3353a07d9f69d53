"""Every action is reachable without knowing a URL: for each mutating URL of the RBAC matrix,
a person allowed to use it finds it in a form (or an htmx request) by following links from the
dashboard, as a person clicking around would."""

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest

from portal.tests.rbac_world import world_build
from portal.tests.test_rbac_matrix import CASES
from sandbox.tests.fixtures import kube_sandbox  # noqa: F401

# Knobs and tuning are offered on what Kubernetes shows: those rows look at the sandbox's shop.
LIVE = ("deployments:control_", "deployments:tuning_", "deployments:runtime_token")

# Who looks: the first allowed persona of this order (one who would have the button).
LOOKERS = ("owner_member", "requester", "owner_lead", "sre", "platform_admin", "other_team_member",
           "viewer")  # fmt: skip
LINK = re.compile(r'\b(?:href|hx-get)="([^"#]+)')
ACTION = re.compile(r'\b(?:action|hx-post|hx-put|hx-patch|hx-delete)="([^"#]*)')
FORM = re.compile(r"<form\b[^>]*>", re.I)
MAX_PAGES = 400


def _doors():
    """The rows a page can offer: not the machine API, Slack or one's own settings by API."""
    seen, rows = set(), []
    for case in CASES:
        if case.get("post") or case["url_name"].startswith(("approvals_api:", "api")):
            continue
        if case["url_name"] in seen:
            continue
        seen.add(case["url_name"])
        rows.append(case)
    return rows


def _path(url: str, base: str) -> str:
    return urlsplit(urljoin(base, url.replace("&amp;", "&"))).path


def _crawl_until(client, wanted: str) -> tuple[bool, int]:
    queue, seen, pages = deque(["/"]), {"/"}, 0
    while queue and pages < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url, headers={"HX-Request": "true"} if "part=" in url else {})
        pages += 1
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode(errors="replace")
        # A form without an action posts to its own page.
        bare = [url for form in FORM.findall(html) if "action=" not in form]
        for target in [*ACTION.findall(html), *bare]:
            if _path(target or url, url) == wanted:
                return True, pages
        for link in LINK.findall(html):
            full = urljoin(url, link.replace("&amp;", "&"))
            parts = urlsplit(full)
            if parts.netloc and parts.netloc != "testserver":
                continue
            if parts.path.startswith(("/admin/", "/accounts/logout", "/static/", "/api/")):
                continue
            key = parts.path + (f"?{parts.query}" if parts.query else "")
            if key not in seen and len(parts.query) < 80:
                seen.add(key)
                queue.append(key)
    return False, pages


def _on_the_sandbox(case, world, sandbox, request) -> None:
    from catalog.models import ComponentEnvironment

    settings = request.getfixturevalue("settings")
    settings.KUBECONFIG = str(sandbox.kubeconfig)
    for env, context in ((world.staging, "staging"), (world.production, "production")):
        type(env).objects.filter(pk=env.pk).update(kube_namespace="shop", kube_context=context)
    # The HPA knob is offered where an HPA runs: the sandbox's `checkout` has one.
    name = "checkout" if case["url_name"] == "deployments:control_hpa" else "cart"
    ComponentEnvironment.objects.filter(component=world.component).update(kube_deployment=name)


@pytest.mark.parametrize("case", _doors(), ids=[c["url_name"] for c in _doors()])
def test_an_allowed_person_finds_the_action_by_following_links(case, client, db, request):
    world = world_build()
    if case.get("teardown"):
        request.addfinalizer(lambda: case["teardown"](world))
    if case.get("setup"):
        case["setup"](world)
    if case["url_name"].startswith(LIVE):
        _on_the_sandbox(case, world, request.getfixturevalue("kube_sandbox"), request)
    looker = next((p for p in LOOKERS if p in case["allowed"]), None)
    assert looker, f"nobody of {LOOKERS} may use {case['url_name']}"
    client.force_login(world.users[looker])
    wanted = urlsplit(case["url"](world)).path
    found, pages = _crawl_until(client, wanted)
    assert found, f"{looker} found no form for {wanted} in {pages} pages from the dashboard"
