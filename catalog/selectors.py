"""Catalog reads reused by several views: search, the service graph and the blast radius.

Graph walks are breadth-first and set-based: one recursive CTE whose rows are whole *levels*
(depth, frontier, seen), not single paths. Each level's frontier is every component reached for the
first time at that depth, so a component is visited once, at its minimal depth, and cycles stop by
themselves. The cost is one index lookup per edge reached, whatever the shape of the graph.
PostgreSQL carries the sets as bigint arrays, SQLite (development, tests) as JSON arrays.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from .graph_memory import graph_for
from .models import CatalogVersion, Component, Dependency, Environment

GRAPH_MAX_NODES = 120
BLAST_CACHE_SECONDS = 600  # a backstop only: a new catalog version makes old answers unused
BLAST_PAGE_LIMIT = 50  # rows the service page shows; also what blast_radius_warm prepares
EDGE_KINDS = tuple(Dependency.Kind.values)


def environment_kube_contexts() -> dict[str, str]:
    """Environment name -> kubeconfig context, for `integrations.kubernetes.kubernetes_adapter`."""
    rows = Environment.objects.exclude(kube_context="").values_list("name", "kube_context")
    return dict(rows)


def component_search(*, query: str) -> QuerySet[Component]:
    """Components whose name, title, description or tags match `query` (case-insensitive)."""
    terms = query.split()
    qs = Component.objects.select_related("owner", "namespace", "parent")
    for term in terms:
        qs = qs.filter(
            Q(name__icontains=term)
            | Q(title__icontains=term)
            | Q(description__icontains=term)
            | Q(tags__icontains=term)
        )
    return qs.order_by("name")


# --- Graph walks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphNode:
    """A component as the graph and the blast radius show it (no further queries needed)."""

    id: int
    name: str
    title: str
    kind: str
    entity_kind: str
    metadata_namespace: str
    tier: int
    lifecycle: str
    parent_id: int | None
    owner_name: str
    owner_title: str
    owner_namespace: str
    depth: int
    direction: str = ""  # "root", "upstream" (depends on root), "downstream" (root depends on it)

    def __str__(self):
        return self.title or self.name

    @property
    def label(self) -> str:
        return self.title or self.name

    @property
    def kind_label(self) -> str:
        return Component.Kind(self.kind).label if self.kind in Component.Kind.values else self.kind

    @property
    def owner_label(self) -> str:
        return self.owner_title or self.owner_name

    def get_absolute_url(self) -> str:
        return reverse(
            "catalog:component_detail",
            args=[self.metadata_namespace, self.entity_kind.lower(), self.name],
        )

    def get_owner_url(self) -> str:
        if not self.owner_name:
            return ""
        return reverse("catalog:team_detail", args=[self.owner_namespace, self.owner_name])


@dataclass(frozen=True)
class BlastRadius:
    """Who is affected if `root` is unhealthy: components that transitively depend on it."""

    total: int
    team_count: int
    components: list[GraphNode]
    kinds: tuple[str, ...]
    max_depth: int | None

    @property
    def truncated(self) -> bool:
        return self.total > len(self.components)


@dataclass(frozen=True)
class GraphEdge:
    source: int
    target: int
    kind: str
    topic: str
    criticality: str


@dataclass
class Neighbourhood:
    """Nodes within `depth` hops up- and downstream of a component, and the edges among them."""

    root_id: int
    depth: int
    kinds: tuple[str, ...]
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)
    total_nodes: int = 0
    systems: dict[int, tuple[str, str]] = field(default_factory=dict)  # node id -> (name, title)

    @property
    def truncated(self) -> bool:
        return self.total_nodes > len(self.nodes)

    def as_json(self) -> dict:
        """The shape the service graph script draws (cytoscape elements plus a summary)."""
        return {
            "root": self.root_id,
            "depth": self.depth,
            "kinds": list(self.kinds),
            "total_nodes": self.total_nodes,
            "truncated": self.truncated,
            "nodes": [
                {
                    "data": {
                        "id": str(n.id),
                        "label": n.label,
                        "kind": n.kind,
                        "tier": n.tier,
                        "owner": n.owner_label,
                        "depth": n.depth,
                        "direction": n.direction,
                        "url": n.get_absolute_url(),
                        "system": self.systems.get(n.id, ("", ""))[1],
                    }
                }
                for n in self.nodes
            ],
            "edges": [
                {
                    "data": {
                        "id": f"e{e.source}-{e.target}-{e.kind}",
                        "source": str(e.source),
                        "target": str(e.target),
                        "kind": e.kind,
                        "topic": e.topic,
                        "criticality": e.criticality,
                    }
                }
                for e in self.edges
            ],
        }


def normalise_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    """Known edge kinds in canonical order; None or nothing known means all kinds."""
    wanted = set(kinds or ())
    chosen = tuple(kind for kind in EDGE_KINDS if kind in wanted)
    return chosen or EDGE_KINDS


_NODE_COLUMNS = (
    "c.id, c.name, c.title, c.kind, c.entity_kind, c.metadata_namespace, c.tier, c.lifecycle, "
    "c.parent_id, COALESCE(t.name, ''), COALESCE(t.title, ''), COALESCE(t.metadata_namespace, '')"
)


class _Dialect:
    """SQL pieces for one level-by-level walk; `frm` is the column we stand on, `to` where we go."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"

    def walk_cte(self, name: str, *, frm: str, to: str, kinds: Sequence[str], limited: bool):
        # All kinds is the common case: no filter then, so the index on the walked column suffices.
        kind_sql = (
            ""
            if set(kinds) == set(EDGE_KINDS)
            else f"AND d.kind IN ({', '.join(['%s'] * len(kinds))})"
        )
        depth_sql = "AND w.depth < %s" if limited else ""
        if self.postgres:
            sql = f"""{name}(depth, frontier, seen) AS (
                SELECT 0, ARRAY[%s]::bigint[], ARRAY[]::bigint[]
                UNION ALL
                SELECT w.depth + 1,
                    ARRAY(SELECT d.{to} FROM catalog_dependency d
                          WHERE d.{frm} = ANY(w.frontier) {kind_sql}
                          EXCEPT SELECT unnest(w.seen) EXCEPT SELECT unnest(w.frontier)),
                    w.seen || w.frontier
                FROM {name} w WHERE cardinality(w.frontier) > 0 {depth_sql}
            )"""  # noqa: S608 - only fixed identifiers are interpolated; values are parameters
        else:
            sql = f"""{name}(depth, frontier, seen) AS (
                SELECT 0, json_array(%s), json_array()
                UNION ALL
                SELECT w.depth + 1,
                    (SELECT json_group_array(DISTINCT d.{to}) FROM catalog_dependency d
                     WHERE d.{frm} IN (SELECT value FROM json_each(w.frontier))
                       {kind_sql}
                       AND d.{to} NOT IN (SELECT value FROM json_each(w.seen))
                       AND d.{to} NOT IN (SELECT value FROM json_each(w.frontier))),
                    (SELECT json_group_array(j.value)
                     FROM json_each(json_array(json(w.seen), json(w.frontier))) part,
                          json_each(part.value) j)
                FROM {name} w WHERE json_array_length(w.frontier) > 0 {depth_sql}
            )"""  # noqa: S608
        return sql

    def walk_params(self, start: int, kinds: Sequence[str], max_depth: int | None) -> list:
        kind_params = [] if set(kinds) == set(EDGE_KINDS) else list(kinds)
        return [start, *kind_params, *([max_depth] if max_depth is not None else [])]

    def hits(self, name: str) -> str:
        """(id, depth) rows of a walk, the start excluded."""
        if self.postgres:
            return f"SELECT unnest(w.frontier) AS id, w.depth FROM {name} w WHERE w.depth > 0"  # noqa: S608
        sql = "SELECT CAST(j.value AS INTEGER) AS id, w.depth FROM {} w, json_each(w.frontier) j"
        return sql.format(name) + " WHERE w.depth > 0"


def _node(row, direction: str = "") -> GraphNode:
    *columns, depth = row[:13]
    return GraphNode(*columns, depth=depth, direction=direction)


def catalog_version() -> str | None:
    """The token that changes with every write to components, dependencies or teams (or None)."""
    return catalog_version_query().first()


def catalog_version_query() -> QuerySet:
    """The version as a one-value queryset, to read it in the same query as a component:
    `Component.objects.annotate(catalog_version=Subquery(catalog_version_query()))`."""
    return CatalogVersion.objects.filter(pk=1).values_list("token", flat=True)


_READ = object()


def blast_radius(
    component: Component,
    *,
    kinds: Iterable[str] | None = None,
    max_depth: int | None = None,
    limit: int | None = 200,
    version=_READ,
) -> BlastRadius:
    """Components that transitively depend on `component`, each at its minimal depth.

    At most two queries: the catalog version (none when the caller read it along with the
    component and passes it as `version`), then (unless the answer for this version is cached)
    the rows shown. The walk is on the graph in memory of this version (`graph_memory`: two
    more queries the first time a process sees a version); answers are also cached under the
    catalog version (see `CatalogVersion`): any write to the graph, a component or a team gives
    a new version, so neither the graph nor a cached answer is ever stale.
    """
    kinds = normalise_kinds(kinds)
    if version is _READ:
        version = catalog_version()
    # Whole answers (thousands of nodes) are not cached; the graph serves them all the same.
    cached_under = version if limit is not None else None
    key = f"catalog:blast:{version}:{component.pk}:{'.'.join(kinds)}:{max_depth}:{limit}"
    if cached_under is not None:
        cached = cache.get(key)
        if cached is not None:
            return cached
    if version is None:  # no version row yet (or no triggers): walk the tables
        radius = _blast_radius_walk(component.pk, kinds=kinds, max_depth=max_depth, limit=limit)
    else:
        radius = _blast_radius_in_memory(
            graph_for(version), component.pk, kinds=kinds, max_depth=max_depth, limit=limit
        )
    if cached_under is not None:
        cache.set(key, radius, BLAST_CACHE_SECONDS)
    return radius


def _blast_radius_in_memory(
    graph, pk: int, *, kinds: tuple[str, ...], max_depth: int | None, limit: int | None
) -> BlastRadius:
    """The walk on the graph in memory, then one query for the rows shown."""
    levels = graph.levels(pk, kinds=kinds, max_depth=max_depth)
    chosen = graph.first(levels, limit)
    rows = {}
    if chosen:
        ids = [i for i, _ in chosen]
        postgres = connection.vendor == "postgresql"  # one array parameter, not thousands
        where = "= ANY(%s::bigint[])" if postgres else f"IN ({', '.join(['%s'] * len(ids))})"
        sql = f"""SELECT {_NODE_COLUMNS} FROM catalog_component c
            LEFT JOIN catalog_team t ON t.id = c.owner_id WHERE c.id {where}"""  # noqa: S608
        with connection.cursor() as cursor:
            array = "{" + ",".join(map(str, ids)) + "}"  # a literal: no per-element adaptation
            cursor.execute(sql, [array] if postgres else ids)
            rows = {row[0]: row for row in cursor.fetchall()}
    return BlastRadius(
        total=sum(len(level) for level in levels),
        team_count=graph.team_count(levels),
        components=[_node((*rows[i], d), "upstream") for i, d in chosen if i in rows],
        kinds=kinds,
        max_depth=max_depth,
    )


def _blast_radius_walk(
    pk: int, *, kinds: tuple[str, ...], max_depth: int | None, limit: int | None
) -> BlastRadius:
    """One SQL query: the walk, the totals (components and distinct owner teams) and the first
    `limit` affected components ordered by depth, tier and name."""
    dialect = _Dialect()
    walk = dialect.walk_cte(
        "walk", frm="target_id", to="source_id", kinds=kinds, limited=max_depth is not None
    )
    limit_sql = "LIMIT %s" if limit is not None else ""
    # `hc` is used three times, so it is materialised once: the join to components happens once.
    sql = f"""WITH RECURSIVE {walk},
        hit AS ({dialect.hits("walk")}),
        hc AS (
            SELECT h.id, h.depth, c.owner_id, c.tier, c.name
            FROM hit h JOIN catalog_component c ON c.id = h.id
        )
        SELECT {_NODE_COLUMNS}, hc.depth,
            (SELECT COUNT(*) FROM hc), (SELECT COUNT(DISTINCT owner_id) FROM hc)
        FROM (SELECT * FROM hc ORDER BY depth, tier, name {limit_sql}) hc
        JOIN catalog_component c ON c.id = hc.id
        LEFT JOIN catalog_team t ON t.id = c.owner_id
        ORDER BY hc.depth, c.tier, c.name"""  # noqa: S608
    params = dialect.walk_params(pk, kinds, max_depth)
    if limit is not None:
        params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    total, teams = (rows[0][13], rows[0][14]) if rows else (0, 0)
    return BlastRadius(
        total=total,
        team_count=teams,
        components=[_node(row, "upstream") for row in rows],
        kinds=kinds,
        max_depth=max_depth,
    )


def neighbourhood(
    component: Component,
    *,
    depth: int = 1,
    kinds: Iterable[str] | None = None,
    max_nodes: int = GRAPH_MAX_NODES,
) -> Neighbourhood:
    """The component, what it depends on and what depends on it, up to `depth` hops each way.

    Two queries: the nodes (both walks in one statement, nearest first, at most `max_nodes`) and
    the edges among them. A hub with thousands of callers is cut to the nearest `max_nodes`.
    """
    kinds = normalise_kinds(kinds)
    dialect = _Dialect()
    up = dialect.walk_cte("up", frm="target_id", to="source_id", kinds=kinds, limited=True)
    down = dialect.walk_cte("down", frm="source_id", to="target_id", kinds=kinds, limited=True)
    sql = f"""WITH RECURSIVE {up}, {down},
        hit AS (
            SELECT CAST(%s AS BIGINT) AS id, 0 AS depth, 'root' AS direction
            UNION ALL SELECT u.id, u.depth, 'upstream' FROM ({dialect.hits("up")}) u
            UNION ALL SELECT d.id, d.depth, 'downstream' FROM ({dialect.hits("down")}) d
        ),
        best AS (
            SELECT id, MIN(depth) AS depth,
                CASE WHEN COUNT(DISTINCT direction) > 1 THEN 'both' ELSE MIN(direction) END
                    AS direction
            FROM hit GROUP BY id
        )
        SELECT {_NODE_COLUMNS}, b.depth, b.direction, (SELECT COUNT(*) FROM best),
            COALESCE(s.name, ''), COALESCE(s.title, '')
        FROM best b JOIN catalog_component c ON c.id = b.id
        LEFT JOIN catalog_team t ON t.id = c.owner_id
        LEFT JOIN catalog_system s ON s.id = c.system_id
        ORDER BY b.depth, CASE b.direction WHEN 'root' THEN 0 WHEN 'downstream' THEN 1 ELSE 2 END,
            c.tier, c.name
        LIMIT %s"""  # noqa: S608
    params = [
        *dialect.walk_params(component.pk, kinds, depth),
        *dialect.walk_params(component.pk, kinds, depth),
        component.pk,
        max_nodes,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    graph = Neighbourhood(root_id=component.pk, depth=depth, kinds=kinds)
    graph.nodes = [_node(row, row[13]) for row in rows]
    graph.total_nodes = rows[0][14] if rows else 0
    graph.systems = {row[0]: (row[15], row[16] or row[15]) for row in rows if row[15]}
    ids = [node.id for node in graph.nodes]
    graph.edges = [
        GraphEdge(*values)
        for values in Dependency.objects.filter(
            source_id__in=ids, target_id__in=ids, kind__in=kinds
        )
        .order_by("source_id", "target_id", "kind")
        .values_list("source_id", "target_id", "kind", "topic", "criticality")
    ]
    return graph


# --- Direct edges ------------------------------------------------------------------------------


def dependencies_direct(component: Component, *, limit: int = 100) -> list[Dependency]:
    """What `component` depends on, with the target and its owner loaded."""
    return list(
        Dependency.objects.filter(source=component)
        .select_related("target__owner")
        .order_by("kind", "target__name")[:limit]
    )


def dependents_direct(component: Component, *, limit: int = 100) -> list[Dependency]:
    """What depends on `component` directly, with the source and its owner loaded."""
    return list(
        Dependency.objects.filter(target=component)
        .select_related("source__owner")
        .order_by("kind", "source__name")[:limit]
    )


def subcomponent_counts(parent_ids: Iterable[int]) -> dict[int, int]:
    """{parent id: number of subcomponents} for a page of components, in one query."""
    rows = (
        Component.objects.filter(parent_id__in=list(parent_ids))
        .values("parent_id")
        .annotate(n=Count("id"))
        .values_list("parent_id", "n")
    )
    return dict(rows)


def blast_radius_warm(*, top: int = 25) -> int:
    """Walk the blast radius of the most depended-on components once per catalog version, so
    that people opening a hub's page get the cached answer. Returns how many were walked."""
    version = catalog_version()
    if version is None or cache.get(_WARMED_KEY) == version:
        return 0
    hubs = (
        Component.objects.annotate(dependents_count=Count("dependents"))
        .filter(dependents_count__gt=0)
        .order_by("-dependents_count")[:top]
    )
    walked = 0
    for hub in hubs:
        blast_radius(hub, limit=BLAST_PAGE_LIMIT, version=version)
        walked += 1
    cache.set(_WARMED_KEY, version, BLAST_CACHE_SECONDS)
    return walked


_WARMED_KEY = "catalog:blast:warmed-version"
