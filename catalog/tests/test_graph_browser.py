"""The service graph is readable: label size on screen, which edges are drawn, layout, hover.

Screenshots go to the pytest temporary folder (`graph-*.png`) for a person to look at.
"""

import pytest
from playwright.sync_api import expect

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


def _click_node(page, graph, node_id):
    # Lazy cards above the graph move it down as they load: click once they have.
    expect(page.locator(".panel-lazy > a")).to_have_count(0)
    graph.scroll_into_view_if_needed()
    x, y = page.evaluate(
        """([el, id]) => { const p = el._cy.getElementById(id).renderedPosition();
            const box = el.getBoundingClientRect(); return [box.left + p.x, box.top + p.y]; }""",
        [graph.element_handle(), node_id],
    )
    page.mouse.click(x, y)


def _hub(callers_per_system: int, systems: list[str], loners: int):
    """`hub` with `callers_per_system` callers in each system and `loners` without a system."""
    names = [f"{s}-client-{i:02}" for s in systems for i in range(callers_per_system)]
    names += [f"lone-client-{i:02}" for i in range(loners)]
    g = components("hub", *names, owner=team("platform"))
    for name in systems:
        system = System.objects.create(name=name, title=name.title())
        Component.objects.filter(name__startswith=f"{name}-client-").update(system=system)
    edges(g, " ".join(f"{n}>hub" for n in names))
    return g


def test_a_hub_with_130_callers_folds_them_by_system_into_count_nodes(
    login_page, user, live_server, tmp_path
):
    g = _hub(30, ["storefront", "billing", "search", "identity"], loners=10)
    page = login_page(user)
    graph, console = _graph(page, f"{live_server.url}{g['hub'].get_absolute_url()}")
    page.screenshot(path=str(tmp_path / "graph-hub-130-folded.png"), full_page=True)
    # 119 of the 130 callers fit the graph's node cap; each system, and the owner of the ones
    # without a system, is one node with its count, and one line to the hub.
    expect(graph).to_have_attribute("data-cluster-count", "5")
    assert int(graph.get_attribute("data-edge-count")) == 5
    assert int(graph.get_attribute("data-node-count")) == 6
    assert float(graph.get_attribute("data-label-px")) >= 12
    assert min(_label_heights(page, graph)) >= 12
    labels = page.evaluate(
        "el => el._cy.nodes('[?isCluster]').map(n => n.data('label'))", graph.element_handle()
    )
    assert any(label.startswith("Storefront: ") and "components" in label for label in labels)
    assert any(label.startswith("owner Platform: ") for label in labels)
    assert "groups folded" in page.locator("[data-graph-note]").inner_text()
    assert int(graph.bounding_box()["height"]) <= 760
    assert not [m for m in console if m[0] in ("warning", "error")], console


def test_opening_a_group_shows_its_members_wrapped_into_a_grid(
    login_page, user, live_server, tmp_path
):
    g = _hub(30, ["storefront", "billing", "search", "identity"], loners=10)
    page = login_page(user)
    graph, console = _graph(page, f"{live_server.url}{g['hub'].get_absolute_url()}")
    expect(graph).to_have_attribute("data-cluster-count", "5")
    graph.scroll_into_view_if_needed()
    storefront = page.evaluate(
        "el => el._cy.nodes('[?isCluster]').filter(n => n.data('group') === 'Storefront')"
        ".map(n => [n.id(), n.data('count')])[0]",
        graph.element_handle(),
    )
    _click_node(page, graph, storefront[0])
    expect(graph).to_have_attribute("data-cluster-count", "4")
    members = storefront[1]
    assert int(graph.get_attribute("data-node-count")) == 6 - 1 + members
    assert int(graph.get_attribute("data-edge-count")) == 4 + members
    page.screenshot(path=str(tmp_path / "graph-hub-130-open.png"), full_page=True)
    grid = page.evaluate(
        """el => el._cy.nodes().filter(n => n.data('system') === 'Storefront' && !n.isParent()
            && !n.data('isCluster')).map(n => [Math.round(n.position('x')),
            Math.round(n.position('y'))])""",
        graph.element_handle(),
    )
    assert len(grid) == members
    assert len({y for _, y in grid}) <= 12  # at most 12 rows ...
    assert len({x for x, _ in grid}) >= 2  # ... side by side, not one tall column
    hub_x = page.evaluate(
        "([el, id]) => el._cy.getElementById(id).position('x')",
        [graph.element_handle(), str(g["hub"].pk)],
    )
    assert max(x for x, _ in grid) < hub_x  # still upstream, on the left
    assert float(graph.get_attribute("data-label-px")) >= 12
    page.get_by_role("button", name="Fold groups").click()
    expect(graph).to_have_attribute("data-cluster-count", "5")
    assert not [m for m in console if m[0] in ("warning", "error")], console


def test_a_hundred_neighbours_stay_legible_and_fit_zooms_out(
    login_page, user, live_server, tmp_path
):
    g = components("hub", *[f"client-{i:02}" for i in range(100)], owner=team("platform"))
    edges(g, " ".join(f"client-{i:02}>hub" for i in range(100)))
    page = login_page(user)
    graph, console = _graph(page, f"{live_server.url}{g['hub'].get_absolute_url()}")
    expect(graph).to_have_attribute("data-cluster-count", "1")  # one owner, no system
    assert graph.get_attribute("data-edge-count") == "1"
    graph.scroll_into_view_if_needed()
    cluster = page.evaluate("el => el._cy.nodes('[?isCluster]')[0].id()", graph.element_handle())
    _click_node(page, graph, cluster)
    expect(graph).to_have_attribute("data-cluster-count", "0")
    page.screenshot(path=str(tmp_path / "graph-100.png"), full_page=True)
    assert graph.get_attribute("data-edge-count") == "100"
    assert float(graph.get_attribute("data-label-px")) >= 12
    # Wrapped into a grid, all hundred fit the card at a readable size: nothing to scroll to.
    outside = page.evaluate(
        """el => el._cy.nodes().filter(n => { const b = n.renderedBoundingBox();
            return b.x1 < 0 || b.y1 < 0 || b.x2 > el.clientWidth || b.y2 > el.clientHeight;
            }).length""",
        graph.element_handle(),
    )
    assert outside == 0
    before = graph.get_attribute("data-label-px")
    page.get_by_role("button", name="Zoom out").click()
    expect(graph).not_to_have_attribute("data-label-px", before)
    page.get_by_role("button", name="Fit").click()
    page.get_by_role("button", name="Zoom in").click()
    assert not [m for m in console if m[0] in ("warning", "error")], console
