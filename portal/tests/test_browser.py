import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_and_see_dashboard(login_page, make_user, live_server):
    person = make_user("dana", first_name="Dana")
    page = login_page(person)
    assert page.locator("h1").inner_text() == "Hello, Dana"
    assert page.locator("nav.mainnav").inner_text().split() == [
        "Catalog",
        "Releases",
        "Trains",
        "Delivery",
        "Approvals",
        "APIs",
    ]


def test_wrong_password_is_refused_with_a_message(page, live_server, make_user):
    make_user("erin")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "erin")
    page.fill("input[name=password]", "not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert "/accounts/login/" in page.url
    assert "not correct" in page.content()


def test_htmx_error_is_shown_to_the_user(login_page, make_user, live_server):
    page = login_page(make_user("fay"))
    page.evaluate("htmx.ajax('GET', '/no/such/fragment/', {target: 'main'})")
    message = page.locator(".inline-error")  # next to what asked, styled, the page kept
    message.wait_for()
    assert "no longer exists" in message.inner_text()
    assert page.locator("header.topbar").count() == 1
