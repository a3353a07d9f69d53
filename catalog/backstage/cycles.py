"""Cycles in a parent relation (team parents, namespace subdomains, subcomponents)."""

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def parent_cycles(parent: Mapping[K, K | None], starts: Iterable[K]) -> list[tuple[K, list[K]]]:
    """Each cycle reachable by following `parent` from `starts`, reported once.

    Returns `(start, path)` pairs: `path` begins at `start`, follows parents and its last
    element's parent is `start` again. A cycle is reported for the first start on it; the
    other members of that cycle are not reported again.
    """
    reported: set[K] = set()
    cycles = []
    for start in starts:
        path, node = [start], parent.get(start)
        while node is not None and node not in path and len(path) <= len(parent):
            path.append(node)
            node = parent.get(node)
        if node == start and not reported.intersection(path):
            reported.update(path)
            cycles.append((start, path))
    return cycles
