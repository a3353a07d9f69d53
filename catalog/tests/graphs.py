"""Small hand-built catalogs for graph and page tests."""

from catalog.models import Component, Dependency, Team


def team(name: str) -> Team:
    return Team.objects.get_or_create(name=name, defaults={"title": name.title()})[0]


def components(*names: str, owner: Team | None = None, **extra) -> dict[str, Component]:
    created = Component.objects.bulk_create(
        [Component(name=name, owner=owner, **extra) for name in names]
    )
    return {c.name: c for c in created}


def edges(nodes: dict[str, Component], spec: str, kind: str = "sync", **extra) -> None:
    """`spec` like "a>b b>c": a depends on b, b depends on c."""
    Dependency.objects.bulk_create(
        [
            Dependency(source=nodes[s], target=nodes[t], kind=kind, **extra)
            for s, t in (pair.split(">") for pair in spec.split())
        ]
    )


def chain(count: int, *, prefix: str = "svc", owner: Team | None = None) -> list[Component]:
    """svc-0 <- svc-1 <- ... : each component depends on the previous one, plus a fan of callers."""
    nodes = components(*[f"{prefix}-{i}" for i in range(count)], owner=owner)
    ordered = [nodes[f"{prefix}-{i}"] for i in range(count)]
    Dependency.objects.bulk_create(
        [Dependency(source=ordered[i], target=ordered[i - 1]) for i in range(1, count)]
        + [
            Dependency(source=ordered[i], target=ordered[0], kind="event", topic="t")
            for i in range(2, count)
        ]
    )
    return ordered
