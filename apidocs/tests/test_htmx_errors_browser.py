"""A refused htmx request shows a styled message in place, in every configuration (DEBUG too)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def test_try_it_refusal_is_shown_in_the_response_card(
    debug, login_page, live_server, pm, grpc_version
):
    page = login_page(pm)
    url = f"{live_server.url}/apis/{grpc_version.definition_id}/v{grpc_version.number}/try/"
    page.goto(f"{url}?op=helloworld.Greeter.SayHello")
    # Force an environment the PM may not call, as a hand-edited form would.
    page.eval_on_selector(
        "select[name=environment]", "s => { s.add(new Option('Prod', 'prod')); s.value = 'prod'; }"
    )
    page.click("button[type=submit]:has-text('Send')")
    card = page.locator("#tryit-response [role=alert]")
    card.wait_for()
    assert "not approved for try-it" in card.inner_text()
    # The page is intact: its header, form and stylesheet are still there.
    assert page.locator("header.topbar").count() == 1
    assert page.locator("form.tryit-form").count() == 1
    assert page.locator("h1").inner_text().startswith("Try")


def test_an_error_page_never_replaces_the_page(debug, login_page, live_server, pm):
    page = login_page(pm)
    page.goto(f"{live_server.url}/apis/")
    page.evaluate(
        """() => {
          const b = document.createElement('button');
          b.id = 'gone'; b.textContent = 'Load';
          b.setAttribute('hx-get', '/apis/999999/');
          document.querySelector('h1').after(b);
          htmx.process(b);
        }"""
    )
    page.click("#gone")
    message = page.locator(".inline-error")
    message.wait_for()
    assert message.inner_text() == "That no longer exists."
    assert message.evaluate("e => getComputedStyle(e).borderLeftStyle") == "solid"
    assert page.locator("h1").inner_text() == "APIs"
