"""Planning a train: waves from the catalog's typed edges, as a pure function over networkx.

`source depends on target` (catalog.Dependency): the target is the provider and goes first.
Synchronous edges are always respected; event and data edges only when the train says so.
A wave is a topological generation; a pin (set when someone moves a service later) is a lower
bound on its wave, so every reordering keeps providers before consumers.

Services outside the train still order it: when a member depends on an outside service that
(through outside services only) depends on another member, that member goes first
(`through_outside`).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

SYNC = "sync"


@dataclass(frozen=True)
class Edge:
    consumer: int
    provider: int
    kind: str
    via: int | None = None  # the first outside service on the path, for an implied edge


@dataclass(frozen=True)
class Plan:
    """Waves of component ids (in order), or the cycles that make a plan impossible."""

    waves: list[list[int]] = field(default_factory=list)
    cycles: list[list[Edge]] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.cycles

    def wave_of(self) -> dict[int, int]:
        return {node: index for index, wave in enumerate(self.waves) for node in wave}


class MoveRefused(ValueError):
    """A service cannot go to the asked wave: the message names the provider in the way."""


def respected(edges: Iterable[Edge], *, kinds: Iterable[str]) -> list[Edge]:
    """The edges the train orders by: synchronous ones always, the others as chosen."""
    keep = {SYNC, *kinds}
    return [edge for edge in edges if edge.kind in keep and edge.consumer != edge.provider]


def through_outside(*, members: Iterable[int], edges: Iterable[Edge], kinds=()) -> list[Edge]:
    """Edges between members implied by paths through services outside the train.

    `edges` are the catalog's edges around the members (their providers, and the providers of
    those outside, transitively). A path consumer -> outside ... -> provider whose edges are all
    respected gives one Edge(consumer, provider, kind of its first hop, via=first outside one).
    Reachability is a bit set of members per outside service, computed once per strongly
    connected knot of the outside graph, so a large outside graph costs one pass.
    """
    members = list(dict.fromkeys(members))
    bit = {node: 1 << index for index, node in enumerate(members)}
    outside = nx.DiGraph()  # outside consumer -> outside provider
    hits: dict[int, int] = {}  # outside node -> members it depends on directly
    first_hops: dict[int, list[Edge]] = {}  # member -> its edges to outside providers
    for edge in respected(edges, kinds=kinds):
        if edge.consumer in bit:
            if edge.provider not in bit:
                first_hops.setdefault(edge.consumer, []).append(edge)
                outside.add_node(edge.provider)
        elif edge.provider in bit:
            hits[edge.consumer] = hits.get(edge.consumer, 0) | bit[edge.provider]
            outside.add_node(edge.consumer)
        else:
            outside.add_edge(edge.consumer, edge.provider)
    reach = _outside_reach(outside, hits)
    implied = []
    for consumer, hops in first_hops.items():
        found = bit[consumer]  # itself: a loop back through outside orders nothing
        for hop in hops:
            new = reach.get(hop.provider, 0) & ~found
            found |= new
            implied += [
                Edge(consumer=consumer, provider=node, kind=hop.kind, via=hop.provider)
                for node in members
                if new & bit[node]
            ]
    return implied


def _outside_reach(outside: nx.DiGraph, hits: dict[int, int]) -> dict[int, int]:
    """Per outside node, the members reachable from it through outside nodes (a bit set)."""
    knots = nx.condensation(outside)
    members_of = knots.graph["mapping"]  # node -> knot
    knot_reach: dict[int, int] = {}
    for knot in reversed(list(nx.topological_sort(knots))):  # providers first
        value = 0
        for node in knots.nodes[knot]["members"]:
            value |= hits.get(node, 0)
        for after in knots.successors(knot):
            value |= knot_reach[after]
        knot_reach[knot] = value
    return {node: knot_reach[knot] for node, knot in members_of.items()}


def _graph(nodes: Iterable[int], edges: list[Edge]) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    for edge in edges:
        if graph.has_edge(edge.provider, edge.consumer):
            continue  # two kinds between one pair order the same way
        graph.add_edge(edge.provider, edge.consumer, edge=edge)
    return graph


def _cycles(graph: nx.DiGraph) -> list[list[Edge]]:
    """One cycle per strongly connected knot, as the edges that close it."""
    found = []
    for knot in nx.strongly_connected_components(graph):
        if len(knot) < 2:
            continue
        loop = nx.find_cycle(graph.subgraph(knot))
        found.append([graph.edges[u, v]["edge"] for u, v in loop])
    return sorted(found, key=lambda cycle: min(e.provider for e in cycle))


def plan_waves(
    *, nodes: Iterable[int], edges: Iterable[Edge], kinds: Iterable[str] = (), pins=None
) -> Plan:
    """Waves for `nodes` ordered along the respected `edges`; `pins` maps node -> earliest wave."""
    nodes = list(dict.fromkeys(nodes))
    members = set(nodes)
    used = [
        e for e in respected(edges, kinds=kinds) if e.consumer in members and e.provider in members
    ]
    graph = _graph(nodes, used)
    cycles = _cycles(graph)
    if cycles:
        return Plan(cycles=cycles, edges=used)
    pins = pins or {}
    level: dict[int, int] = {}
    for node in nx.topological_sort(graph):
        after = [level[p] + 1 for p in graph.predecessors(node)]
        level[node] = max([pins.get(node, 0), *after])
    # Empty waves (a pin beyond the last one) close up; the order between waves stays.
    distinct = sorted(set(level.values()))
    rank = {value: index for index, value in enumerate(distinct)}
    waves: list[list[int]] = [[] for _ in distinct]
    for node in nodes:
        waves[rank[level[node]]].append(node)
    return Plan(waves=waves, edges=used)


def plan_move(*, plan: Plan, node: int, wave: int, names=None) -> dict[int, int]:
    """Pins that put `node` in `wave`: later is always allowed (its consumers follow), earlier
    than one of its providers is refused with that provider's name."""
    names = names or {}
    where = plan.wave_of()
    if node not in where:
        raise MoveRefused("That service is not part of this train.")
    if wave < 0:
        raise MoveRefused("Waves count from 1.")
    for edge in plan.edges:
        if edge.consumer == node and where[edge.provider] >= wave:
            provider = names.get(edge.provider, edge.provider)
            how = edge.kind if edge.via is None else f"through {names.get(edge.via, edge.via)}"
            raise MoveRefused(
                f"{names.get(node, node)} depends on {provider} ({how}), which is released "
                f"in wave {where[edge.provider] + 1}: it cannot go before or with it."
            )
    pins = dict(where)
    pins[node] = wave
    return pins
