import pytest

from catalog.tests.graphs import components, edges, team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_a_service_open_it_see_its_graph_and_follow_a_node(login_page, user, live_server):
    owner = team("checkout-team")
    g = components("checkout", "web-shop", "mailer", "orders-db", "tax-rates", owner=owner)
    edges(g, "web-shop>checkout checkout>orders-db checkout>tax-rates")
    edges(g, "mailer>checkout", kind="event", topic="orders.created")

    page = login_page(user)
    page.fill("form.searchbox input[name=q]", "checkout")
    page.press("form.searchbox input[name=q]", "Enter")
    page.get_by_role("link", name="checkout", exact=True).click()
    page.wait_for_url(f"{live_server.url}{g['checkout'].get_absolute_url()}")

    graph = page.locator(".servicegraph .graph")
    page.wait_for_function(
        "el => el.dataset.nodeCount !== ''", arg=graph.element_handle(), timeout=15_000
    )
    assert graph.get_attribute("data-node-count") == "5"
    assert graph.get_attribute("data-edge-count") == "4"
    assert graph.locator("canvas").count() >= 1

    # Click the orders-db node where cytoscape drew it, and land on its page.
    graph.scroll_into_view_if_needed()
    # Let the scroll event reach cytoscape (it caches where its container is) before clicking.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    x, y = page.evaluate(
        """el => {
            const cy = el._cyreg.cy;
            const node = cy.nodes().filter(n => n.data('label') === 'orders-db')[0];
            const pos = node.renderedPosition();
            const box = el.getBoundingClientRect();
            return [box.left + pos.x, box.top + pos.y];
        }""",
        graph.element_handle(),
    )
    page.mouse.click(x, y)
    page.wait_for_url(f"{live_server.url}{g['orders-db'].get_absolute_url()}")
    assert "orders-db" in page.locator("h1").inner_text()


def test_blast_radius_filter_updates_in_place(login_page, user, live_server):
    g = components("core", "caller", "listener")
    edges(g, "caller>core")
    edges(g, "listener>core", kind="event", topic="core.events")
    page = login_page(user)
    page.goto(f"{live_server.url}{g['core'].get_absolute_url()}")
    assert page.locator("[data-blast-total]").inner_text() == "2"
    page.locator("#blast input[value=sync]").uncheck()
    # A function, not an expression string: the page's CSP refuses Playwright's eval of one.
    page.wait_for_function("() => document.querySelector('[data-blast-total]').innerText === '1'")
    assert "kind=event" in page.url
    assert page.locator("#blast table").inner_text().count("listener") == 1
