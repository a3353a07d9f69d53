"""The production configuration, built and served as shipped, passes a browser smoke test.

collectstatic with the manifest storage, gunicorn with DEBUG off, a worker, beat and the sandbox
(portal/tests/production_site.py); Chromium signs in, opens the main pages and runs one release.
"""

import re

import pytest

from .production_site import production_site_start

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "switchyard-demo"
SERVICE_QUERY = (
    "from catalog.models import Component; from portal.models import TeamMembership;"
    "teams = TeamMembership.objects.filter(user__username='alice').values('team');"
    "c = Component.objects.filter(owner__in=teams,"
    " deployments__environment__name='staging').exclude(repository='').first();"
    "print(c.get_absolute_url())"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    running = production_site_start(tmp_path_factory.mktemp("production"))
    yield running
    running.stop()


@pytest.fixture
def browse(chromium_browser, site):
    """A page that records every failed answer and script error on the site."""
    context = chromium_browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.problems = []
    page.on(
        "response",
        lambda r: r.status >= 400 and page.problems.append(f"{r.status} {r.url}"),
    )
    page.on("pageerror", lambda exc: page.problems.append(f"script error: {exc}"))
    yield page
    context.close()


def service_path(site) -> str:
    """A service of Alice's team (shell prints its auto-imports first: the last line is ours)."""
    return site.manage("shell", "-c", SERVICE_QUERY).strip().splitlines()[-1]


def sign_in(page, site, username="alice"):
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{site.url}/")


def test_static_files_are_served_from_the_manifest(site):
    manifest = site.directory / "static" / "staticfiles.json"
    assert manifest.exists(), "collectstatic wrote no manifest"
    assert (site.directory / "static" / "vendor" / "cytoscape-dagre.min.js.map").exists()


def test_main_pages_render_under_production_settings(browse, site):
    page = browse
    sign_in(page, site)
    assert page.get_by_role("link", name="Approvals").is_visible()
    service = service_path(site)
    for path in [
        "/",
        "/catalog/",
        "/catalog/components/",
        service,
        "/releases/",
        "/approvals/",
        "/apis/",
        "/audit/",
    ]:
        response = page.goto(site.url + path)
        assert response.status == 200, f"{path} answered {response.status}"
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").count() >= 1, f"{path} has no heading"
    # Hashed, compressed static files (the manifest) and the vendored graph library work.
    page.goto(site.url + service)
    scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert any(re.search(r"/static/vendor/cytoscape\.min\.[0-9a-f]{12}\.js$", s) for s in scripts)
    graph = page.locator(".graph").first
    page.wait_for_function("el => el.dataset.nodeCount > 0", arg=graph.element_handle())
    assert page.problems == [], page.problems


def test_admin_opens_for_the_platform_admin(browse, site):
    page = browse
    sign_in(page, site, "admin")
    response = page.goto(f"{site.url}/admin/")
    assert response.status == 200
    assert "Site administration" in page.content()
    page.goto(f"{site.url}/admin/catalog/component/")
    assert page.locator("#result_list").is_visible()
    assert page.problems == [], page.problems


def test_a_release_runs_through_worker_beat_and_sandbox(browse, site):
    page = browse
    sign_in(page, site)
    service = service_path(site)
    page.goto(site.url + service)
    page.get_by_role("link", name="Release a version…").click()
    page.select_option("select[name=environment]", label="Staging")
    newest = page.locator("#versions option").first.get_attribute("value")
    page.fill("input[name=version]", newest)
    page.select_option("select[name=strategy]", "rolling")
    page.fill("textarea[name=reason]", "production smoke test")
    page.get_by_role("button", name="Start release").click()
    page.wait_for_url("**/releases/*/")
    status = page.locator(".release-status")
    try:
        status.locator(".badge-ok", has_text="Succeeded").wait_for(timeout=90_000)
    except Exception as exc:
        raise AssertionError(f"{status.inner_text()}\n{site.logs()}") from exc
    assert "live and healthy" in status.locator(".timeline").inner_text()
    assert page.problems == [], page.problems
