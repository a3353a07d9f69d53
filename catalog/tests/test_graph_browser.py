"""The service graph is readable: label size on screen, which edges are drawn, layout, hover.

Screenshots go to the pytest temporary folder (`graph-*.png`) for a person to look at.
"""

import pytest

from catalog.models import Component, System
from catalog.tests.graphs import components, edges, team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UP = [f"caller-{i}" for i in range(6)]
DOWN = [f"store-{i}" for i in range(6)]


@pytest.fixture
def hairball(db):
    """`focus`, six callers, six dependencies and 15 edges among the neighbours."""
    owner = team("checkout-team")
    g = components("focus", *UP, *DOWN, owner=owner)
    front = System.objects.create(name="storefront", title="Storefront")
    Component.objects.filter(name__in=UP).update(system=front)
    edges(g, " ".join(f"{c}>focus" for c in UP) + " " + " ".join(f"focus>{s}" for s in DOWN))
    among = [f"{UP[i]}>{DOWN[j]}" for i in range(5) for j in range(3)]
    edges(g, " ".join(among), kind="data")
    return g


def _graph(page, url):
    console = []
    page.on("console", lambda m: console.append((m.type, m.text)))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
    graph = page.locator(".servicegraph .graph")
    page.wait_for_function("el => el.dataset.nodeCount !== ''", arg=graph.element_handle())
    return graph, console


def _label_heights(page, graph):
    """The on-screen height of every node label, in CSS pixels (cytoscape's rendered box)."""
    return page.evaluate(
        """el => el._cy.nodes().filter(n => !n.data('isSystem')).map(n => n.renderedBoundingBox(
            {includeNodes: false, includeEdges: false, includeLabels: true}).h)""",
        graph.element_handle(),
    )


def test_depth_one_draws_only_the_focus_edges_with_readable_labels(
    login_page, user, live_server, hairball, tmp_path
):
    page = login_page(user)
    graph, console = _graph(page, f"{live_server.url}{hairball['focus'].get_absolute_url()}")
    page.screenshot(path=str(tmp_path / "graph-depth1.png"), full_page=True)
    assert graph.get_attribute("data-node-count") == "13"
    assert graph.get_attribute("data-edge-count") == "12"  # not the 27 among all of them
    assert float(graph.get_attribute("data-label-px")) >= 12
    assert min(_label_heights(page, graph)) >= 12
    # Upstream on the left, the focus in the middle, downstream on the right.
    xs = page.evaluate(
        "([el, ids]) => ids.map(i => el._cy.getElementById(String(i)).position('x'))",
        [graph.element_handle(), [hairball[n].pk for n in ["focus", *UP, *DOWN]]],
    )
    focus, callers, stores = xs[0], xs[1:7], xs[7:]
    assert max(callers) < focus < min(stores)
    # The callers share a system: they are drawn inside its box.
    systems = page.evaluate(
        "el => el._cy.nodes(':parent').map(n => [n.data('label'), n.children().length])",
        graph.element_handle(),
    )
    assert ["Storefront", 6] in systems
    assert not [m for m in console if m[0] in ("warning", "error")], console

    page.locator("[data-graph-option=all-edges]").check()
    page.wait_for_function("el => el.dataset.edgeCount === '27'", arg=graph.element_handle())
    page.screenshot(path=str(tmp_path / "graph-all-edges.png"), full_page=True)


def test_hover_tells_kind_owner_and_edge_kind(login_page, user, live_server, hairball):
    page = login_page(user)
    graph, _ = _graph(page, f"{live_server.url}{hairball['focus'].get_absolute_url()}")
    graph.scroll_into_view_if_needed()
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def hover(selector_js):
        x, y = page.evaluate(
            """([el, pick]) => { const cy = el._cy; const item = eval(pick);
                const p = item.isNode() ? item.renderedPosition() : item.renderedMidpoint();
                const box = el.getBoundingClientRect();
                return [box.left + p.x, box.top + p.y]; }""",
            [graph.element_handle(), selector_js],
        )
        page.mouse.move(x, y)
        tip = page.locator("[data-graph-tip]")
        tip.wait_for(state="visible")
        return tip.inner_text()

    text = hover(f"cy.getElementById('{hairball['store-0'].pk}')")
    assert "store-0" in text and "service" in text and "owner: Checkout-Team" in text
    text = hover(f"cy.getElementById('e{hairball['focus'].pk}-{hairball['store-0'].pk}-sync')")
    assert text.startswith("focus → store-0: sync dependency")


def test_a_hundred_neighbours_stay_legible_and_fit_zooms_out(
    login_page, user, live_server, tmp_path
):
    g = components("hub", *[f"client-{i:02}" for i in range(100)], owner=team("platform"))
    edges(g, " ".join(f"client-{i:02}>hub" for i in range(100)))
    page = login_page(user)
    graph, console = _graph(page, f"{live_server.url}{g['hub'].get_absolute_url()}")
    page.screenshot(path=str(tmp_path / "graph-100.png"), full_page=True)
    assert graph.get_attribute("data-edge-count") == "100"
    assert float(graph.get_attribute("data-label-px")) >= 12
    before = float(graph.get_attribute("data-label-px"))
    page.get_by_role("button", name="Fit").click()
    page.wait_for_function(
        f"el => parseFloat(el.dataset.labelPx) < {before}", arg=graph.element_handle()
    )
    page.get_by_role("button", name="Zoom in").click()
    assert not [m for m in console if m[0] in ("warning", "error")], console
