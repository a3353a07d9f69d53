"""The dependency graph held in memory, one copy per process and catalog version.

A hub's blast radius on the shared catalog reaches ~7,900 of 10,000 components; walking that in
SQL level by level costs ~30 ms even on a quiet machine, most of it array work per level. The
whole graph is small (25,000 edges and the tier, name and owner of each component: a few MB),
so each process loads it once per catalog version (two queries) and walks it in Python
(a few ms). The version changes on every write to the tables it is built from (triggers,
`CatalogVersion`), so the copy in memory is never stale: a new version loads a new copy.
"""

import heapq
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from .models import Component, Dependency

EDGE_KINDS = tuple(Dependency.Kind.values)


@dataclass(frozen=True)
class Graph:
    version: str
    callers: dict[int, tuple[tuple[int, str], ...]]  # target -> ((source, kind), ...)
    callers_any: dict[int, frozenset[int]]  # target -> its sources over every edge kind
    order: dict[int, tuple[int, str]]  # component -> (tier, name): how lists are sorted
    owner: dict[int, int | None]

    def levels(self, root: int, *, kinds: Sequence[str], max_depth: int | None) -> list[set]:
        """What transitively depends on `root`, level by level: levels[0] at depth 1, ...

        Each component is in the level of its minimal depth. Over every kind (the usual case)
        a level is one union of frozensets, in C; a kind filter looks at each edge.
        """
        every = set(kinds) >= set(EDGE_KINDS)
        wanted = set(kinds)
        seen, frontier, levels = {root}, {root}, []
        while frontier and (max_depth is None or len(levels) < max_depth):
            if every:
                found = set().union(*(self.callers_any.get(t, ()) for t in frontier)) - seen
            else:
                found = {
                    source
                    for t in frontier
                    for source, kind in self.callers.get(t, ())
                    if kind in wanted and source not in seen
                }
            if not found:
                break
            seen |= found
            levels.append(found)
            frontier = found
        return levels

    def first(self, levels: list[set], limit: int | None) -> list[tuple[int, int]]:
        """(id, depth) ordered by depth, tier and name: the first `limit` of them (whole levels
        before the last one needed are sorted, later ones not at all)."""
        chosen = []
        for depth, level in enumerate(levels, start=1):
            room = None if limit is None else limit - len(chosen)
            if room is not None and room <= 0:
                break
            order = self.order.__getitem__
            if room is None or room >= len(level):
                ranked = sorted(level, key=order)
            else:
                ranked = heapq.nsmallest(room, level, key=order)
            chosen += [(pk, depth) for pk in ranked]
        return chosen

    def team_count(self, levels: list[set]) -> int:
        owner = self.owner
        return len({owner[pk] for level in levels for pk in level} - {None})


_current: Graph | None = None
_loading = threading.Lock()


def graph_for(version: str) -> Graph:
    """The graph of catalog version `version` (loaded now unless this process holds it)."""
    global _current
    graph = _current
    if graph is not None and graph.version == version:
        return graph
    with _loading:
        if _current is not None and _current.version == version:
            return _current
        callers: dict[int, list[tuple[int, str]]] = {}
        edges = Dependency.objects.values_list("target_id", "source_id", "kind")
        for target, source, kind in edges.iterator(chunk_size=10_000):
            callers.setdefault(target, []).append((source, kind))
        order, owner = {}, {}
        rows = Component.objects.values_list("id", "tier", "name", "owner_id")
        for pk, tier, name, owner_id in rows.iterator(chunk_size=10_000):
            order[pk] = (tier, name)
            owner[pk] = owner_id
        _current = Graph(
            version=version,
            callers={target: tuple(found) for target, found in callers.items()},
            callers_any={t: frozenset(s for s, _ in found) for t, found in callers.items()},
            order=order,
            owner=owner,
        )
        return _current
