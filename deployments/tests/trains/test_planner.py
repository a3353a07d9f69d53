"""Planning as properties: random graphs, never a consumer before or with its provider."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deployments.trains.planner import Edge, MoveRefused, plan_move, plan_waves

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
