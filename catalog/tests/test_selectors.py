import pytest

from catalog.models import Component, Dependency, Team
from catalog.selectors import blast_radius, catalog_version, neighbourhood, subcomponent_counts
from catalog.tests.graphs import chain, components, edges, team

pytestmark = pytest.mark.django_db


def names_by_depth(radius):
    return {c.name: c.depth for c in radius.components}


def test_blast_radius_of_a_diamond_counts_the_shared_caller_once_at_its_nearest_depth():
    # top -> left -> db, top -> right -> db, top -> db: top is at depth 1 through the direct edge.
    g = components("db", "left", "right", "top", "bystander")
    edges(g, "left>db right>db top>left top>right top>db bystander>top")
    radius = blast_radius(g["db"])
    assert names_by_depth(radius) == {"left": 1, "right": 1, "top": 1, "bystander": 2}
    assert radius.total == 4


def test_blast_radius_walks_a_cycle_once_and_stops():
    g = components("a", "b", "c", "d")
    edges(g, "a>b b>c c>a d>c")
    radius = blast_radius(g["a"])
    # c depends on a; b depends on c; a (the start) is never listed as affecting itself.
    assert names_by_depth(radius) == {"c": 1, "b": 2, "d": 2}


def test_blast_radius_follows_only_the_chosen_edge_kinds():
    g = components("store", "api", "consumer", "reporter")
    edges(g, "api>store")
    edges(g, "consumer>api", kind="event", topic="orders")
    edges(g, "reporter>store", kind="data")
    assert names_by_depth(blast_radius(g["store"], kinds=["sync"])) == {"api": 1}
    assert names_by_depth(blast_radius(g["store"], kinds=["sync", "event"])) == {
        "api": 1,
        "consumer": 2,
    }
    assert names_by_depth(blast_radius(g["store"], kinds=["data"])) == {"reporter": 1}
    assert blast_radius(g["store"], kinds=["bogus"]).total == 3  # unknown kinds mean all kinds


def test_blast_radius_stops_at_the_depth_limit():
    nodes = chain(6)
    radius = blast_radius(nodes[0], kinds=["sync"], max_depth=2)
    assert names_by_depth(radius) == {"svc-1": 1, "svc-2": 2}
    assert blast_radius(nodes[0], kinds=["sync"]).total == 5


def test_blast_radius_counts_distinct_owner_teams_and_ignores_unowned():
    payments, search = team("payments"), team("search")
    g = components("core")
    g |= components("pay-api", "pay-worker", owner=payments)
    g |= components("search-api", owner=search)
    g |= components("orphan")
    edges(g, "pay-api>core pay-worker>pay-api search-api>core orphan>search-api")
    radius = blast_radius(g["core"])
    assert (radius.total, radius.team_count) == (4, 2)


def test_blast_radius_of_an_unused_component_is_empty():
    g = components("lonely", "other")
    edges(g, "lonely>other")
    radius = blast_radius(g["lonely"])
    assert (radius.total, radius.team_count, radius.components) == (0, 0, [])


def test_blast_radius_limit_keeps_the_totals_and_the_nearest_components():
    nodes = chain(30)
    radius = blast_radius(nodes[0], limit=5)
    assert radius.total == 29 and radius.truncated
    assert [c.depth for c in radius.components] == [1] * 5


def test_blast_radius_is_the_version_and_the_rows_then_only_the_version(
    django_assert_num_queries,
):
    nodes = chain(40)
    with django_assert_num_queries(4):  # a new version: the graph is loaded (edges, components)
        first = blast_radius(nodes[0])
    with django_assert_num_queries(1):
        assert blast_radius(nodes[0]) == first
    with django_assert_num_queries(2):  # another answer of the same version: the rows shown
        assert blast_radius(nodes[5]).total == 34


def test_every_write_to_the_graph_or_what_it_shows_makes_a_new_catalog_version():
    g = components("db", "api", "web", owner=team("data"))
    edges(g, "api>db")
    seen = {catalog_version()}
    assert blast_radius(g["db"]).total == 1
    edges(g, "web>api")
    seen.add(catalog_version())
    assert blast_radius(g["db"]).total == 2  # a new edge: not the cached answer
    Component.objects.filter(pk=g["web"].pk).update(title="Web shop")
    seen.add(catalog_version())
    assert {c.label for c in blast_radius(g["db"]).components} == {"api", "Web shop"}
    Team.objects.filter(name="data").update(title="Data platform")
    seen.add(catalog_version())
    assert {c.owner_label for c in blast_radius(g["db"]).components} == {"Data platform"}
    Dependency.objects.filter(source=g["web"]).delete()
    seen.add(catalog_version())
    assert blast_radius(g["db"]).total == 1
    assert None not in seen and len(seen) == 5


def test_neighbourhood_goes_both_ways_to_the_chosen_depth():
    g = components("edge", "mid", "svc", "db", "disk", "unrelated")
    edges(g, "edge>mid mid>svc svc>db db>disk unrelated>edge")
    graph = neighbourhood(g["svc"], depth=1)
    assert {(n.name, n.direction, n.depth) for n in graph.nodes} == {
        ("svc", "root", 0),
        ("mid", "upstream", 1),
        ("db", "downstream", 1),
    }
    graph = neighbourhood(g["svc"], depth=2)
    assert {n.name for n in graph.nodes} == {"edge", "mid", "svc", "db", "disk"}
    by_id = {n.id: n.name for n in graph.nodes}
    assert {(by_id[e.source], by_id[e.target]) for e in graph.edges} == {
        ("edge", "mid"),
        ("mid", "svc"),
        ("svc", "db"),
        ("db", "disk"),
    }


def test_neighbourhood_marks_a_component_on_both_sides_of_a_cycle():
    g = components("a", "b")
    edges(g, "a>b b>a")
    graph = neighbourhood(g["a"], depth=1)
    assert {(n.name, n.direction) for n in graph.nodes} == {("a", "root"), ("b", "both")}
    assert len(graph.edges) == 2


def test_neighbourhood_filters_edge_kinds_for_nodes_and_edges():
    g = components("svc", "caller", "listener")
    edges(g, "caller>svc")
    edges(g, "listener>svc", kind="event", topic="svc.events")
    graph = neighbourhood(g["svc"], depth=1, kinds=["event"])
    assert {n.name for n in graph.nodes} == {"svc", "listener"}
    assert [e.kind for e in graph.edges] == ["event"]
    data = graph.as_json()
    assert data["edges"][0]["data"]["kind"] == "event"
    assert {n["data"]["label"] for n in data["nodes"]} == {"svc", "listener"}


def test_neighbourhood_keeps_the_nearest_nodes_when_capped():
    nodes = chain(30)
    graph = neighbourhood(nodes[0], depth=3, max_nodes=10)
    assert graph.total_nodes == 30 and graph.truncated
    assert len(graph.nodes) == 10 and graph.nodes[0].direction == "root"
    assert all(n.depth <= 1 for n in graph.nodes)


def test_neighbourhood_is_two_queries(django_assert_num_queries):
    nodes = chain(40)
    with django_assert_num_queries(2):
        neighbourhood(nodes[5], depth=3)


def test_subcomponent_counts_per_parent():
    g = components("checkout", "search")
    components("checkout-api", "checkout-worker", parent=g["checkout"])
    assert subcomponent_counts([g["checkout"].pk, g["search"].pk]) == {g["checkout"].pk: 2}


def test_warming_prepares_hub_answers_once_per_catalog_version(db, django_assert_num_queries):
    from catalog.selectors import BLAST_PAGE_LIMIT, blast_radius_warm

    g = components("hub", "a", "b", "c", "lonely")
    edges(g, "a>hub b>hub c>hub c>a")
    assert blast_radius_warm(top=2) == 2  # hub and a: lonely has no dependents
    assert blast_radius_warm(top=2) == 0  # same catalog version: nothing to do
    version = catalog_version()
    with django_assert_num_queries(0):  # what the service page asks for is ready
        radius = blast_radius(g["hub"], limit=BLAST_PAGE_LIMIT, version=version)
    assert radius.total == 3
    edges(g, "lonely>hub")  # a catalog change: a new version to warm
    assert blast_radius_warm(top=2) == 2
    assert blast_radius(g["hub"], limit=BLAST_PAGE_LIMIT).total == 4
