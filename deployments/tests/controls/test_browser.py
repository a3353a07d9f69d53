"""A person scales a service from its page in a real browser: inside the guardrails it happens,
outside them it is refused and the cluster is untouched."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_scales_within_range_and_is_refused_out_of_range(
    login_page, owner, shop, live_server
):
    cart = shop["components"]["cart"]
    page = login_page(owner)
    page.goto(f"{live_server.url}{cart.get_absolute_url()}")

    staging = page.locator("#live-staging")
    form = staging.locator("form.knob-scale")
    form.wait_for()  # filled in by htmx after the page loaded
    assert "Replicas (allowed 1–6)" in form.inner_text()
    form.locator("input[name=replicas]").fill("4")
    form.locator("input[name=reason]").fill("load test")
    form.get_by_role("button", name="Scale").click()
    page.locator("#live-staging .control-message").wait_for()
    assert "Scale requested" in page.locator("#live-staging .control-message").inner_text()
    assert shop["deployment"]("staging", "cart")["spec"]["replicas"] == 4
    assert page.locator("#live-staging .replicas-desired").inner_text() == "4"

    # The browser would stop 40 itself (max=6); the server must refuse it too.
    form = page.locator("#live-staging form.knob-scale")
    form.locator("input[name=replicas]").evaluate("el => el.removeAttribute('max')")
    form.locator("input[name=replicas]").fill("40")
    form.locator("input[name=reason]").fill("way more")
    form.get_by_role("button", name="Scale").click()
    error = page.locator("#live-staging .control-error")
    error.wait_for()
    assert "outside the allowed range 1–6" in error.inner_text()
    assert shop["deployment"]("staging", "cart")["spec"]["replicas"] == 4
