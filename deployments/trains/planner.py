"""Planning a train: waves from the catalog's typed edges, as a pure function over networkx.

`source depends on target` (catalog.Dependency): the target is the provider and goes first.
Synchronous edges are always respected; event and data edges only when the train says so.
A wave is a topological generation; a pin (set when someone moves a service later) is a lower
bound on its wave, so every reordering keeps providers before consumers.
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
            raise MoveRefused(
                f"{names.get(node, node)} depends on {provider} ({edge.kind}), which is released "
                f"in wave {where[edge.provider] + 1}: it cannot go before or with it."
            )
    pins = dict(where)
    pins[node] = wave
    return pins
