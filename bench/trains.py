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
    them), rotating over the samples."""
    rng = random.Random(17)
    services = list(Component.objects.filter(parent__isnull=True).values_list("pk", flat=True))
    samples = [rng.sample(services, k=min(TRAIN_SIZE, len(services))) for _ in range(4)]
    samples += [_dense_sample(hub) for hub in _hubs(4)]
    edges_seen, outcomes = [], []

    def plan(index: int):
        ids = samples[index % len(samples)]
        edges = train_edges(ids, ("event", "data"))
        edges_seen.append(len(edges))
        result = plan_waves(nodes=ids, edges=edges, kinds=("event", "data"))
        outcomes.append(len(result.waves) if result.ok else -len(result.cycles))
        return result

    figures = [
        measure(
            scale=label,
            name=f"plan a {TRAIN_SIZE}-service train (edges + waves)",
            call=plan,
            repeat=repeat,
            target="≤ 200",
        )
        for _ in range(runs)
    ]
    figure = combine(figures)
    waves = [n for n in outcomes if n > 0]
    note = (
        f"up to {max(edges_seen)} edges among the {TRAIN_SIZE}; "
        f"{max(waves, default=0)} waves at most; {sum(n < 0 for n in outcomes)} of "
        f"{len(outcomes)} plans found cycles"
    )
    return [
        Figure(
            figure.scale,
            figure.name,
            figure.p50_ms,
            figure.p95_ms,
            figure.queries,
            note,
            figure.target,
        )
    ]
