"""`make bench`, train part: planning a 200-service train on the seeded catalog.

Planning is what `train_create` and the plan page do before anything is written: read the typed
edges among the train's components and those implied through services outside it (two
queries), and compute the waves with networkx.
"""

import random

from django.db.models import Count

from bench.figures import Figure, combine, measure
from catalog.models import Component, Dependency
from deployments.trains.planner import plan_waves
from deployments.trains.selectors import train_edges

TRAIN_SIZE = 200


def _hubs(count: int) -> list[int]:
    return list(
        Component.objects.filter(parent__isnull=True)
        .annotate(n=Count("dependents"))
        .order_by("-n")
        .values_list("pk", flat=True)[:count]
    )


def _dense_sample(hub: int) -> list[int]:
    """The 200 services nearest a hub along its dependents: a train with many edges inside."""
    seen, frontier = [hub], [hub]
    while frontier and len(seen) < TRAIN_SIZE:
        step = Dependency.objects.filter(
            target_id__in=frontier, source__parent__isnull=True
        ).values_list("source_id", flat=True)
        frontier = [pk for pk in dict.fromkeys(step) if pk not in set(seen)]
        seen += frontier[: TRAIN_SIZE - len(seen)]
    return seen


def trains_bench(*, label: str, repeat: int, runs: int) -> list[Figure]:
    """Plan trains of 200 random services, and of the 200 nearest a hub (many edges among
        them), rotating over the samples: ordered by synchronous edges (a train's default) and by
        every kind. Edges through services outside the train count (the walk around them): cold
    (the catalog changed since the last plan of these services) and cached (the train page's
    polls, a second look at the plan)."""
    rng = random.Random(17)
    services = list(Component.objects.filter(parent__isnull=True).values_list("pk", flat=True))
    samples = [rng.sample(services, k=min(TRAIN_SIZE, len(services))) for _ in range(4)]
    samples += [_dense_sample(hub) for hub in _hubs(4)]
    return [
        _plan_figure(label, samples, kinds, cached=cached, repeat=repeat, runs=runs)
        for kinds in ((), ("event", "data"))
        for cached in (False, True)
    ]


def _plan_figure(label, samples, kinds, *, cached: bool, repeat: int, runs: int) -> Figure:
    edges_seen, outcomes = [], []

    def plan(index: int):
        ids = samples[index % len(samples)]
        edges = train_edges(ids, kinds, cached=cached)
        edges_seen.append(len(edges))
        result = plan_waves(nodes=ids, edges=edges, kinds=kinds)
        outcomes.append(len(result.waves) if result.ok else -len(result.cycles))
        return result

    ordered = "every edge kind" if kinds else "synchronous edges"
    figures = [
        measure(
            scale=label,
            name=f"plan a {TRAIN_SIZE}-service train by {ordered} (edges + waves), "
            + ("catalog unchanged since (cached walk)" if cached else "cold (walk the graph)"),
            call=plan,
            repeat=repeat,
            target="≤ 200",
        )
        for _ in range(runs)
    ]
    figure = combine(figures)
    waves = [n for n in outcomes if n > 0]
    note = (
        f"up to {max(edges_seen)} edges among the {TRAIN_SIZE} (direct and through outside "
        f"services); {max(waves, default=0)} waves at most; {sum(n < 0 for n in outcomes)} of "
        f"{len(outcomes)} plans found cycles"
    )
    return Figure(
        figure.scale,
        figure.name,
        figure.p50_ms,
        figure.p95_ms,
        figure.queries,
        note,
        figure.target,
    )
