"""Every live panel says how old its data is, and warns when it stopped being refreshed."""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

LIVE_PAGE = """<!doctype html><html><head>
<script src="/static/django_htmx/htmx-2.min.js"></script>
<script src="/static/js/panel-age.js"></script></head>
<body><div id="card" hx-get="/healthz" hx-trigger="every 1s" hx-swap="innerHTML"></div>
</body></html>"""


def open_live_card(page, live_server):
    page.goto(f"{live_server.url}/healthz")
    page.set_content(LIVE_PAGE)
    age = page.locator("#card > .panel-age")
    age.wait_for()
    return age


def test_a_live_panel_says_how_old_its_data_is(page, live_server):
    age = open_live_card(page, live_server)
    page.wait_for_function("document.querySelector('#card').textContent.includes('database')")
    assert re.fullmatch(r"read \d s ago", age.inner_text())
    assert "stale" not in (age.get_attribute("class") or "")


def test_a_panel_that_stops_refreshing_says_it_may_be_out_of_date(page, live_server):
    age = open_live_card(page, live_server)
    page.route("**/healthz", lambda route: route.abort())
    page.wait_for_selector("#card > .panel-age.stale", timeout=15_000)
    assert "may be out of date" in age.inner_text()
    page.unroute("**/healthz")
    page.wait_for_selector("#card > .panel-age:not(.stale)", timeout=15_000)
