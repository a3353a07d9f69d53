"""Reads for trains: the plan (edges from the catalog, waves from the planner), the picture's
data (owners and blast radius per wave), and the running train holding a component."""

import hashlib
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection

from catalog.models import Component, Dependency
from catalog.selectors import BLAST_CACHE_SECONDS, blast_radius, catalog_version

from .models import Train, TrainService
from .planner import SYNC, Around, Edge, Plan, implied_edges, plan_waves, through_outside


def train_edges(component_ids: list[int], kinds=(), *, cached: bool = True) -> list[Edge]:
    """Typed edges among the train's components (every kind: one query on the unique edge
    index), and the edges implied by paths through services outside the train along the
    respected kinds (synchronous and `kinds`; one more query, a recursive walk).

    Cached under the catalog version (one query), as the blast radius is: any write to the
    graph gives a new version, so a cached answer is never stale. The train page asks on every
    poll of its progress; the walk runs once per catalog version."""
    version = catalog_version() if cached else None
    key = ""
    if version is not None:
        digest = hashlib.sha1(  # noqa: S324 - a cache key, not a secret
            ",".join(map(str, sorted(component_ids))).encode()
        ).hexdigest()
        key = f"trains:edges:{version}:{digest}:{'.'.join(sorted(kinds))}"
        found = cache.get(key)
        if found is not None:
            return found
    edges = _train_edges_read(component_ids, kinds)
    if key:
        cache.set(key, edges, BLAST_CACHE_SECONDS)
    return edges


def _train_edges_read(component_ids: list[int], kinds) -> list[Edge]:
    rows = Dependency.objects.filter(
        source_id__in=component_ids, target_id__in=component_ids
    ).values_list("source_id", "target_id", "kind")
    direct = [Edge(consumer=s, provider=t, kind=k) for s, t, k in rows]
    if not component_ids:
        return direct
    if connection.vendor == "postgresql":
        around = _edges_around_postgres(component_ids, (SYNC, *kinds))
        return direct + implied_edges(members=component_ids, around=around)
    around = _edges_around_generic(component_ids, (SYNC, *kinds))
    return direct + through_outside(members=component_ids, edges=around, kinds=kinds)


def _edges_around_generic(ids: list[int], kinds: tuple[str, ...]) -> list[Edge]:
    """The respected edges out of the members and, transitively, out of the outside services
    they reach: the walk stops at members (what lies behind one is its own business). A
    recursive join (SQLite; on PostgreSQL it would hash the whole edge table)."""
    members = ", ".join(["(%s)"] * len(ids))
    kind_in = ", ".join(["%s"] * len(kinds))
    sql = f"""WITH RECURSIVE m(id) AS (VALUES {members}),
        reach(id) AS (
            SELECT d.target_id FROM catalog_dependency d
            WHERE d.source_id IN (SELECT id FROM m) AND d.kind IN ({kind_in})
              AND d.target_id NOT IN (SELECT id FROM m)
            UNION
            SELECT d.target_id FROM catalog_dependency d JOIN reach r ON d.source_id = r.id
            WHERE d.kind IN ({kind_in}) AND d.target_id NOT IN (SELECT id FROM m)
        )
        SELECT d.source_id, d.target_id, d.kind FROM catalog_dependency d
        WHERE d.kind IN ({kind_in}) AND d.source_id <> d.target_id
          AND (d.source_id IN (SELECT id FROM m) OR d.source_id IN (SELECT id FROM reach))"""  # noqa: S608 - placeholders only; values are parameters
    params = [*ids, *kinds, *kinds, *kinds]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [Edge(consumer=s, provider=t, kind=k) for s, t, k in cursor.fetchall()]


def _edges_around_postgres(ids: list[int], kinds: tuple[str, ...]) -> Around:
    """The same walk level by level over arrays (as catalog's blast radius walks): each level
    is one index scan of its frontier, where a recursive join would hash the edge table. The
    answer is one row per source with its providers as an array (their kinds only for the
    members' own edges): a tenth of the rows to decode."""
    sql = """WITH RECURSIVE walk(frontier, seen) AS (
            SELECT %(ids)s::bigint[], %(ids)s::bigint[]
            UNION ALL
            SELECT ARRAY(SELECT d.target_id FROM catalog_dependency d
                         WHERE d.source_id = ANY(w.frontier) AND d.kind = ANY(%(kinds)s)
                         EXCEPT SELECT unnest(w.seen)),
                   w.seen || ARRAY(SELECT d.target_id FROM catalog_dependency d
                         WHERE d.source_id = ANY(w.frontier) AND d.kind = ANY(%(kinds)s)
                         EXCEPT SELECT unnest(w.seen))
            FROM walk w WHERE cardinality(w.frontier) > 0
        )
        SELECT d.source_id, array_agg(d.target_id),
            array_agg(d.kind) FILTER (WHERE d.source_id = ANY(%(ids)s))
        FROM catalog_dependency d
        WHERE d.source_id = ANY(ARRAY(SELECT unnest(frontier) FROM walk))
          AND d.kind = ANY(%(kinds)s) AND d.source_id <> d.target_id
        GROUP BY d.source_id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": list(ids), "kinds": list(kinds)})
        return {source: (targets, kinds) for source, targets, kinds in cursor.fetchall()}


def train_plan(train: Train, services: list[TrainService] | None = None) -> Plan:
    """The train's waves with its pins, or the cycles that prevent a plan."""
    services = services if services is not None else list(train.services.all())
    ids = [s.component_id for s in services]
    return plan_waves(
        nodes=ids,
        edges=train_edges(ids, train.edge_kinds),
        kinds=train.edge_kinds,
        pins={s.component_id: s.pin for s in services},
    )


@dataclass
class WaveView:
    number: int
    services: list[TrainService] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    affected: int = 0
    affected_teams: int = 0


def train_waves(train: Train) -> list[WaveView]:
    """Waves as stored on the services, with owners and blast radius (cached per component)."""
    services = list(train.services.select_related("component__owner", "release"))
    waves: dict[int, WaveView] = {}
    for service in services:
        waves.setdefault(service.wave, WaveView(number=service.wave + 1)).services.append(service)
    for view in waves.values():
        members = {s.component_id for s in view.services}
        affected: set[int] = set()
        teams = 0
        for service in view.services:
            radius = blast_radius(service.component)
            affected |= {node.id for node in radius.components}
            teams = max(teams, radius.team_count)
        view.affected = len(affected - members)
        view.affected_teams = teams
        view.owners = sorted({str(s.component.owner) for s in view.services if s.component.owner})
    return [waves[key] for key in sorted(waves)]


def train_holding(*, component: Component, environment) -> Train | None:
    """The running train that has `component` in `environment`, if any."""
    return (
        Train.objects.filter(
            environment=environment,
            state__in=Train.ACTIVE_STATES,
            services__component=component,
        )
        .only("pk", "title")
        .first()
    )
