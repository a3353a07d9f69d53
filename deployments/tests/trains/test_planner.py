"""Planning as properties: random graphs, never a consumer before or with its provider."""

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deployments.trains.planner import Edge, MoveRefused, plan_move, plan_waves, through_outside

KINDS = ("sync", "event", "data")
N = 20


@st.composite
def dags(draw):
    """Edges only from a higher to a lower index under a random permutation: always acyclic."""
    order = draw(st.permutations(range(N)))
    pairs = draw(st.lists(st.tuples(st.integers(0, N - 1), st.integers(0, N - 1)), max_size=60))
    edges = []
    for a, b in pairs:
        if a == b:
            continue
        low, high = sorted((a, b))
        edges.append(
            Edge(consumer=order[high], provider=order[low], kind=draw(st.sampled_from(KINDS)))
        )
    return edges


def violations(plan, edges, kinds):
    where = plan.wave_of()
    keep = {"sync", *kinds}
    return [e for e in edges if e.kind in keep and where[e.provider] >= where[e.consumer]]


@settings(max_examples=100, deadline=None)
@given(edges=dags(), kinds=st.sets(st.sampled_from(("event", "data"))))
def test_random_dags_of_20_services_have_no_ordering_violation(edges, kinds):
    plan = plan_waves(nodes=range(N), edges=edges, kinds=kinds)
    assert plan.ok
    assert sorted(n for wave in plan.waves for n in wave) == list(range(N))
    assert violations(plan, edges, kinds) == []


@settings(max_examples=100, deadline=None)
@given(edges=dags(), ring=st.lists(st.integers(0, N - 1), min_size=2, max_size=6, unique=True))
def test_a_cycle_is_always_reported_with_edges_that_close_it(edges, ring):
    loop = [
        Edge(consumer=ring[i], provider=ring[(i + 1) % len(ring)], kind="sync")
        for i in range(len(ring))
    ]
    plan = plan_waves(nodes=range(N), edges=edges + loop)
    assert not plan.ok and plan.waves == []
    known = {(e.provider, e.consumer) for e in edges + loop}
    for cycle in plan.cycles:
        assert {(e.provider, e.consumer) for e in cycle} <= known
        # each edge's consumer is the next edge's provider, and the last closes on the first
        for here, after in zip(cycle, cycle[1:] + cycle[:1], strict=True):
            assert here.consumer == after.provider


@settings(max_examples=100, deadline=None)
@given(edges=dags(), node=st.integers(0, N - 1), wave=st.integers(0, 25))
def test_a_move_is_either_refused_or_keeps_the_dependency_order(edges, node, wave):
    plan = plan_waves(nodes=range(N), edges=edges)
    try:
        pins = plan_move(plan=plan, node=node, wave=wave)
    except MoveRefused:
        assert any(e.consumer == node and plan.wave_of()[e.provider] >= wave for e in plan.edges)
        return
    moved = plan_waves(nodes=range(N), edges=edges, pins=pins)
    assert violations(moved, edges, ()) == []


def test_event_edges_are_ignored_unless_the_train_respects_them():
    edges = [Edge(consumer=1, provider=2, kind="event")]
    assert plan_waves(nodes=[1, 2], edges=edges).waves == [[1, 2]]
    assert plan_waves(nodes=[1, 2], edges=edges, kinds=["event"]).waves == [[2], [1]]


def test_moving_a_consumer_before_its_provider_is_refused_with_the_reason():
    plan = plan_waves(nodes=[1, 2], edges=[Edge(consumer=1, provider=2, kind="sync")])
    with pytest.raises(MoveRefused, match="orders depends on stock"):
        plan_move(plan=plan, node=1, wave=0, names={1: "orders", 2: "stock"})


def test_moving_a_provider_later_pushes_its_consumers_after_it():
    edges = [Edge(consumer=1, provider=2, kind="sync")]
    plan = plan_waves(nodes=[1, 2, 3], edges=edges)
    moved = plan_waves(nodes=[1, 2, 3], edges=edges, pins=plan_move(plan=plan, node=2, wave=1))
    assert moved.waves == [[3], [2], [1]]


@st.composite
def dags_with_members(draw):
    edges = draw(dags())
    members = draw(st.sets(st.integers(0, N - 1), min_size=1, max_size=N))
    return edges, sorted(members)


@settings(max_examples=100, deadline=None)
@given(case=dags_with_members(), kinds=st.sets(st.sampled_from(("event", "data"))))
def test_services_outside_the_train_still_order_its_members(case, kinds):
    """Whenever a member reaches another along respected edges (through anyone), the provider
    goes first, even when every service between them is outside the train."""
    edges, members = case
    kept = {"sync", *kinds}
    implied = through_outside(members=members, edges=edges, kinds=kinds)
    plan = plan_waves(nodes=members, edges=edges + implied, kinds=kinds)
    assert plan.ok
    graph = nx.DiGraph((e.consumer, e.provider) for e in edges if e.kind in kept)
    where = plan.wave_of()
    for consumer in members:
        if consumer not in graph:
            continue
        for provider in nx.descendants(graph, consumer) & set(members):
            assert where[provider] < where[consumer], (consumer, provider)


def test_an_implied_edge_names_the_first_outside_service_on_its_path():
    # 1 -> 5 -> 6 -> 2 (5 and 6 outside); 3 -> 7 (event, not respected) -> 4
    edges = [
        Edge(consumer=1, provider=5, kind="sync"),
        Edge(consumer=5, provider=6, kind="data"),
        Edge(consumer=6, provider=2, kind="sync"),
        Edge(consumer=3, provider=7, kind="event"),
        Edge(consumer=7, provider=4, kind="sync"),
    ]
    assert through_outside(members=[1, 2, 3, 4], edges=edges) == []
    implied = through_outside(members=[1, 2, 3, 4], edges=edges, kinds=["data"])
    assert implied == [Edge(consumer=1, provider=2, kind="sync", via=5)]
    plan = plan_waves(nodes=[1, 2, 3, 4], edges=edges + implied, kinds=["data"])
    assert plan.waves == [[2, 3, 4], [1]]


def test_a_cycle_through_outside_services_is_reported():
    edges = [
        Edge(consumer=1, provider=5, kind="sync"),
        Edge(consumer=5, provider=2, kind="sync"),
        Edge(consumer=2, provider=1, kind="sync"),
    ]
    implied = through_outside(members=[1, 2], edges=edges)
    plan = plan_waves(nodes=[1, 2], edges=edges + implied)
    assert not plan.ok
    assert {(e.consumer, e.provider, e.via) for e in plan.cycles[0]} == {(1, 2, 5), (2, 1, None)}


def test_a_knot_of_outside_services_still_orders_the_members_behind_it():
    # 1 -> 5 <-> 6 -> 2, and 6 -> 7 -> 5 (5, 6, 7 outside, depending on each other)
    pairs = [(1, 5), (5, 6), (6, 5), (6, 7), (7, 5), (6, 2), (3, 7)]
    edges = [Edge(consumer=c, provider=p, kind="sync") for c, p in pairs]
    implied = through_outside(members=[1, 2, 3], edges=edges)
    assert {(e.consumer, e.provider) for e in implied} == {(1, 2), (3, 2)}
    assert plan_waves(nodes=[1, 2, 3], edges=edges + implied).waves == [[2], [1, 3]]
