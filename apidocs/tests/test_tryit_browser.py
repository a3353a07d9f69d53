"""A PM opens an API, edits the pre-filled sample and gets the real gRPC server's answer."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_pm_edits_sample_and_gets_response(login_page, live_server, pm, grpc_version):
    page = login_page(pm)
    page.goto(f"{live_server.url}{grpc_version.get_absolute_url()}")
    page.locator('tr[id="helloworld.Greeter.SayHello"] a', has_text="Try it").click()
    editor = page.locator("textarea[name=body]")
    assert '"name": "name"' in editor.input_value()  # pre-filled from HelloRequest
    editor.fill('{"name": "Product Manager"}')
    page.select_option("select[name=environment]", "staging")
    page.click("button[type=submit]:has-text('Send')")
    status = page.locator('[data-testid="tryit-status"]')
    status.wait_for()
    assert status.inner_text() == "OK"
    assert "Hello, Product Manager!" in page.locator('[data-testid="tryit-body"]').inner_text()
    assert page.url.endswith("op=helloworld.Greeter.SayHello")  # swapped in place by htmx
    # The copy-as-command line follows the request just sent, not the one the page was drawn with.
    snippet = page.locator('[data-testid="tryit-snippet"]')
    assert "Product Manager" in snippet.inner_text()
    editor.fill('{"name": "Second Try"}')
    page.click("button[type=submit]:has-text('Send')")
    page.locator('[data-testid="tryit-body"]', has_text="Hello, Second Try!").wait_for()
    assert "Second Try" in snippet.inner_text() and "Product Manager" not in snippet.inner_text()
    assert page.locator("#tryit-snippets").count() == 1
