"""The DORA charts render for the demo organisation (its seeded history), in Chromium under
the real Content-Security-Policy, and are reachable from the navigation and a team's page."""

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_dora_charts_render_for_the_demo_organisation(login_page, make_user, live_server):
    call_command("seed_demo", services=12, stdout=open("/dev/null", "w"))  # noqa: SIM115
    page = login_page(make_user("dana", first_name="Dana"))
    page.context.add_init_script(LISTEN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Delivery").click()
    page.wait_for_url(f"{live_server.url}/releases/dora/")
    assert page.locator("h1").inner_text().startswith("Delivery of the organisation")
    charts = page.locator("section.dora-chart")
    assert charts.count() == 4
    for key in ("deployments", "lead_time", "failure_rate", "restore_time"):
        chart = page.locator(f"#dora-{key}")
        assert chart.locator("svg").is_visible()
        assert chart.locator(".dora-headline").inner_text() != "no data"
        assert chart.get_by_text("Definition.").is_visible()
    # Most weeks of the seeded history have deployments: bars with a height, drawn.
    bars = page.locator("#dora-deployments rect.dora-bar")
    assert bars.count() == 12
    heights = [float(bars.nth(i).get_attribute("height")) for i in range(12)]
    assert sum(h > 0 for h in heights) >= 10
    assert bars.nth(5).bounding_box()["height"] > 0
    assert page.evaluate("window.__csp") == []

    page.locator("#dora-weeks").select_option("26")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**weeks=26")
    assert page.locator("#dora-deployments rect.dora-bar").count() == 26

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename.startswith("dora-organisation-")


def test_a_team_page_leads_to_its_delivery_charts(login_page, make_user, live_server):
    from catalog.models import Team

    call_command("seed_demo", services=12, stdout=open("/dev/null", "w"))  # noqa: SIM115
    team = Team.objects.filter(components__isnull=False).order_by("name").first()
    page = login_page(make_user("dana"))
    page.goto(f"{live_server.url}{team.get_absolute_url()}")
    page.get_by_role("link", name="Delivery (DORA)").click()
    assert page.locator("h1").inner_text().startswith(f"Delivery of {team}")
    assert page.locator("section.dora-chart svg").count() == 4
