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


Around = dict[int, tuple[list[int], list[str] | None]]  # source -> (providers, their kinds)


def through_outside(*, members: Iterable[int], edges: Iterable[Edge], kinds=()) -> list[Edge]:
    """Edges between members implied by paths through services outside the train.

    `edges` are the catalog's edges around the members (their providers, and the providers of
    those outside, transitively). A path consumer -> outside ... -> provider whose edges are all
    respected gives one Edge(consumer, provider, kind of its first hop, via=first outside one).
    """
    around: dict[int, tuple[list[int], list[str]]] = {}
    for edge in respected(edges, kinds=kinds):
        targets, edge_kinds = around.setdefault(edge.consumer, ([], []))
        targets.append(edge.provider)
        edge_kinds.append(edge.kind)
    return implied_edges(members=members, around=around)


def implied_edges(*, members: Iterable[int], around: Around) -> list[Edge]:
    """`through_outside` over the walk's answer as it comes from the database: per source, its
    respected providers (and their kinds, needed for the members' own edges only).

    Reachability is a bit set of members per outside service, computed once per strongly
    connected knot of the outside graph: one linear pass, however large the outside graph.
    """
    members = list(dict.fromkeys(members))
    bit = {node: 1 << index for index, node in enumerate(members)}
    providers: dict[int, list[int]] = {}  # outside consumer -> outside providers
    hits: dict[int, int] = {}  # outside node -> members it depends on directly
    first_hops: dict[int, list[tuple[int, str]]] = {}  # member -> (outside provider, kind)
    for source, (targets, kinds) in around.items():
        if source in bit:
            first_hops[source] = [
                (t, k) for t, k in zip(targets, kinds or (), strict=True) if t not in bit
            ]
            continue
        hit, outside = 0, []
        for target in targets:
            if target in bit:
                hit |= bit[target]
            else:
                outside.append(target)
        if hit:
            hits[source] = hit
        if outside:
            providers[source] = outside
    starts = [target for hops in first_hops.values() for target, _ in hops]
    reach = _outside_reach(providers, hits, starts)
    implied = []
    for consumer, hops in first_hops.items():
        found = bit[consumer]  # itself: a loop back through outside orders nothing
        for via, kind in hops:
            new = reach.get(via, 0) & ~found
            found |= new
            while new:
                lowest = new & -new
                new ^= lowest
                provider = members[lowest.bit_length() - 1]
                implied.append(Edge(consumer=consumer, provider=provider, kind=kind, via=via))
    return implied


def _outside_reach(providers: dict[int, list[int]], hits: dict[int, int], starts) -> dict:
    """Per outside node reachable from `starts`, the members it reaches through outside nodes
    (a bit set). Iterative Tarjan: a knot is complete only after every knot it reaches, so its
    value is its own hits and what its members' providers outside the knot reach."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    reach: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    for start in starts:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, at = work.pop()
            if at == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            after = providers.get(node, ())
            while at < len(after):
                nxt = after[at]
                at += 1
                if nxt not in index:
                    work.append((node, at))
                    work.append((nxt, 0))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                if low[node] == index[node]:
                    knot = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        knot.append(member)
                        if member == node:
                            break
                    value = 0
                    for member in knot:
                        value |= hits.get(member, 0)
                        for nxt in providers.get(member, ()):
                            value |= reach.get(nxt, 0)
                    for member in knot:
                        reach[member] = value
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
    return reach


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
