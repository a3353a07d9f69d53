"""Catalog pages: home, namespaces, the component list, service pages, team pages, the graph."""

from dataclasses import replace

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value, Window
from django.db.models.functions import Coalesce, Concat, Lower, RowNumber
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from portal.models import TeamMembership
from portal.panels import SERVICE, panels_for

from .facets import ComponentFilters, component_facets
from .models import (
    Component,
    Dependency,
    EntityOrigin,
    Namespace,
    System,
    Team,
    UnresolvedRelation,
)
from .selectors import (
    BLAST_PAGE_LIMIT,
    EDGE_KINDS,
    blast_radius,
    catalog_version_query,
    dependencies_direct,
    dependents_direct,
    neighbourhood,
    normalise_kinds,
    subcomponent_counts,
)

DIRECT_LIMIT = 50  # direct edges listed per direction; the count shows how many there are
SYSTEM_ROWS = 25  # components shown per system on a namespace page
# What a component row (namespace and team pages) shows.
ROW_COLUMNS = (
    *("name", "title", "metadata_namespace", "entity_kind", "kind", "lifecycle", "tier"),
    *("owner_id", "system_id", "parent_id", "namespace_id"),
    *("owner__name", "owner__title", "owner__metadata_namespace"),
)
BLAST_DEPTHS = (1, 2, 3, 5)
GRAPH_DEPTHS = (1, 2, 3)
LINK_GROUPS = (
    # (group title, Backstage link `type`/`icon` values that belong to it)
    ("Dashboards", {"dashboard", "dashboards", "grafana", "metrics"}),
    ("Logs", {"logs", "log", "logging", "kibana"}),
    ("Runbooks", {"runbook", "runbooks", "docs", "documentation"}),
    ("On-call", {"on-call", "oncall", "pagerduty", "alert", "alerts", "opsgenie"}),
)


def _count(model, field: str):
    """A correlated COUNT(*) so a row can carry a related count without a join fan-out."""
    rows = model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
    counted = rows.annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@require_GET
def catalog_home(request):
    namespaces = Namespace.objects.select_related("owner").annotate(
        system_count=_count(System, "namespace"),
        component_count=Coalesce(
            Subquery(
                Component.objects.filter(namespace=OuterRef("pk"), parent__isnull=True)
                .order_by()
                .values("namespace")
                .annotate(n=Count("pk"))
                .values("n"),
                output_field=IntegerField(),
            ),
            0,
        ),
    )
    return render(request, "catalog/catalog_home.html", {"namespaces": namespaces})


@require_GET
def component_list(request):
    filters = ComponentFilters.from_query(request.GET)
    facets = component_facets(filters)
    page = facets.page(request.GET.get("page"))
    counts = subcomponent_counts(c.pk for c in page.object_list)
    for component in page.object_list:
        component.subcomponent_count = counts.get(component.pk, 0)
    context = {"filters": filters, "facets": facets, "page": page}
    return render(request, "catalog/component_list.html", context)


@require_GET
def namespace_detail(request, mns, name):
    """Systems with their first components each; every system links to its full, paged list.

    One windowed query reads the first `SYSTEM_ROWS` top-level components of every system and
    each system's count, so the page stays the same size whether a system has 30 or 3,000.
    """
    namespace = get_object_or_404(
        Namespace.objects.select_related("owner"), metadata_namespace=mns, name=name
    )
    systems = list(namespace.systems.select_related("owner"))
    by_system = Window(RowNumber(), partition_by=[F("system_id")], order_by=[F("name"), F("pk")])
    components = list(
        namespace.components.filter(parent__isnull=True)
        .select_related("owner")
        .only(*ROW_COLUMNS)
        .annotate(rank=by_system, in_system=Window(Count("*"), partition_by=[F("system_id")]))
        .filter(rank__lte=SYSTEM_ROWS)
        .order_by("system_id", "name", "pk")
    )
    counts = subcomponent_counts(c.pk for c in components)
    shown: dict[int | None, list[Component]] = {}
    totals: dict[int | None, int] = {}
    for component in components:
        component.subcomponent_count = counts.get(component.pk, 0)
        shown.setdefault(component.system_id, []).append(component)
        totals[component.system_id] = component.in_system
    groups = [(system, shown.get(system.pk, [])) for system in systems]
    for system in systems:
        system.component_total = totals.get(system.pk, 0)
    known = {system.pk for system in systems}
    loose = [c for key, rows in shown.items() if key not in known for c in rows]
    loose_total = sum(n for key, n in totals.items() if key not in known)
    context = {
        "namespace": namespace,
        "groups": groups,
        "loose": loose,
        "loose_total": loose_total,
        "total": sum(totals.values()),
    }
    return render(request, "catalog/namespace_detail.html", context)


@require_GET
def team_detail(request, mns, name):
    team = get_object_or_404(
        Team.objects.select_related("parent"), metadata_namespace=mns, name=name
    )
    owned = list(
        team.components.filter(Q(parent__isnull=True) | ~Q(parent__owner=team))
        .select_related("namespace", "parent", "system")
        .order_by("namespace__name", "name")
    )
    counts = subcomponent_counts(c.pk for c in owned)
    for component in owned:
        component.subcomponent_count = counts.get(component.pk, 0)
    context = {
        "team": team,
        "owned": owned,
        "memberships": TeamMembership.objects.filter(team=team)
        .select_related("user")
        .order_by("-role", "user__username"),
        "people": team.people.order_by("name"),
    }
    return render(request, "catalog/team_detail.html", context)


ENTITY_KINDS = {value.lower(): value for value in Component.EntityKind.values}


def _component_or_404(mns: str, kind: str, name: str, queryset=None) -> Component:
    # Exact entity_kind (not iexact): the lookup then uses the unique (kind, mns, name) index.
    queryset = queryset if queryset is not None else Component.objects.all()
    entity_kind = ENTITY_KINDS.get(kind.lower(), kind)
    return get_object_or_404(queryset, metadata_namespace=mns, entity_kind=entity_kind, name=name)


def _int_choice(value: str | None, choices: tuple[int, ...], default: int | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return default
    return number if number in choices else default


def blast_context(request, component: Component) -> dict:
    kinds = normalise_kinds(request.GET.getlist("kind"))
    depth = _int_choice(request.GET.get("depth"), BLAST_DEPTHS, None)
    radius = blast_radius(
        component,
        kinds=kinds,
        max_depth=depth,
        limit=BLAST_PAGE_LIMIT,
        version=getattr(component, "catalog_version", None),
    )
    return {
        "component": component,
        "radius": radius,
        "blast_kinds": kinds,
        "blast_depth": depth,
        "blast_depths": BLAST_DEPTHS,
        "edge_kinds": [(kind, Dependency.Kind(kind).label) for kind in EDGE_KINDS],
    }


def link_groups(links: list) -> list[tuple[str, list[dict]]]:
    """Backstage-style links grouped for the service header; unknown types go to "Other"."""
    grouped: dict[str, list[dict]] = {title: [] for title, _ in LINK_GROUPS}
    grouped["Other"] = []
    for link in links or []:
        if not isinstance(link, dict) or not link.get("url"):
            continue
        kind = str(link.get("type") or link.get("icon") or "").lower()
        title = next((t for t, kinds in LINK_GROUPS if kind in kinds), "Other")
        grouped[title].append(link)
    return [(title, rows) for title, rows in grouped.items() if rows]


def service_queryset():
    """Components as the service page and its catalog panels read them."""
    return Component.objects.select_related(
        "owner", "owner_person", "system", "namespace", "parent", "parent__owner"
    ).annotate(
        dependencies_total=_count(Dependency, "source"),
        dependents_total=_count(Dependency, "target"),
        catalog_version=Subquery(catalog_version_query()),  # the blast radius cache key
        has_unresolved=Exists(UnresolvedRelation.objects.filter(source=_entity_ref_sql())),
        orphaned_from=Subquery(
            EntityOrigin.objects.filter(entity=_entity_ref_sql(), orphaned_at__isnull=False).values(
                "source__name"
            )[:1]
        ),
    )


def _entity_ref_sql():
    """The component's reference as the import writes it: kind:namespace/name, lower case."""
    return Lower(
        Concat(
            OuterRef("entity_kind"),
            Value(":"),
            OuterRef("metadata_namespace"),
            Value("/"),
            OuterRef("name"),
        )
    )


def overview_context(component: Component) -> dict:
    """The subcomponents and environments card (the "overview" panel)."""
    return {
        "subcomponents": component.subcomponents.select_related("owner").order_by("kind", "name"),
        "deployments": _deployments(component),
    }


def dependencies_context(component: Component) -> dict:
    """The direct edges card (the "dependencies" panel)."""
    return {
        "depends_on": dependencies_direct(component, limit=DIRECT_LIMIT),
        "depended_on_by": dependents_direct(component, limit=DIRECT_LIMIT),
    }


BLAST_PARAMS = ("blast", "kind", "depth")  # a request that asks for the blast radius inline


@require_GET
def component_detail(request, mns, kind, name):
    """The service page. Its blast radius (a walk over thousands of components for a hub) is
    loaded by htmx right after the page; the page itself has it inline only when asked for
    (`?blast=1`, or the filters submitted without JavaScript)."""
    component = _component_or_404(mns, kind, name, service_queryset())
    inline_blast = request.htmx or any(key in request.GET for key in BLAST_PARAMS)
    context = blast_context(request, component) if inline_blast else {"component": component}
    if request.htmx:
        return render(request, "catalog/component_detail.html#blast", context)
    panels = panels_for(SERVICE, request, component)
    if not inline_blast:
        panels = [replace(b, lazy=True) if b.name == "blast" else b for b in panels]
    context |= overview_context(component) | dependencies_context(component)
    context |= {
        "links": link_groups(component.links),
        "graph_depths": GRAPH_DEPTHS,
        "panels": panels,
        "unresolved": UnresolvedRelation.objects.filter(source=component.entity_ref.lower())
        if component.has_unresolved
        else (),
    }
    return render(request, "catalog/component_detail.html", context)


def _deployments(component: Component) -> list:
    """Per-environment rows; the API URL falls back to the environment's `{component}` template."""
    rows = list(component.deployments.select_related("environment"))
    for row in rows:
        template = row.environment.api_base_url
        row.effective_api_url = row.api_base_url or (
            template.replace("{component}", component.name) if template else ""
        )
    return rows


@require_GET
def component_graph(request, mns, kind, name):
    """The neighbourhood as cytoscape elements, for the service graph script."""
    component = _component_or_404(mns, kind, name)
    depth = _int_choice(request.GET.get("depth"), GRAPH_DEPTHS, 1)
    graph = neighbourhood(component, depth=depth, kinds=request.GET.getlist("kind"))
    return JsonResponse(graph.as_json())
