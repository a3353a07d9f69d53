"""Reads reused by views and services: latest versions, consumers of an API, symbol search."""

from dataclasses import dataclass

from django.db.models import Q

from catalog.models import ApiRelation, Component, Dependency
from portal.rules import is_platform_admin, is_sre

from .models import ApiSymbol, ApiVersion


def api_latest_version(*, definition) -> ApiVersion | None:
    return definition.versions.order_by("-number").first()


@dataclass(frozen=True)
class Consumer:
    component: Component
    via: str  # "consumes API <name>" or "depends on <name>"


def api_consumers(*, component: Component) -> list[Consumer]:
    """Who breaks when `component`'s API breaks: consumers of the API entities it is or
    provides (catalog ApiRelation), and the dependents of the providing components (graph)."""
    if component.entity_kind == Component.EntityKind.API:
        api_ids = {component.pk}
        providers = set(
            ApiRelation.objects.filter(api=component, relation="provides").values_list(
                "component_id", flat=True
            )
        )
    else:
        api_ids = set(
            ApiRelation.objects.filter(component=component, relation="provides").values_list(
                "api_id", flat=True
            )
        )
        providers = {component.pk}
    consumers: dict[int, Consumer] = {}
    relations = (
        ApiRelation.objects.filter(api_id__in=api_ids, relation="consumes")
        .select_related("component__owner", "api")
        .order_by("component__name")
    )
    for relation in relations:
        consumers.setdefault(
            relation.component_id, Consumer(relation.component, f"consumes API {relation.api.name}")
        )
    edges = (
        Dependency.objects.filter(target_id__in=providers)
        .exclude(Q(source_id__in=providers))
        .select_related("source__owner", "target")
        .order_by("source__name")
    )
    for edge in edges:
        consumers.setdefault(
            edge.source_id, Consumer(edge.source, f"depends on {edge.target.name}")
        )
    return sorted(consumers.values(), key=lambda c: c.component.name)


def symbol_search(*, query: str, limit: int = 100):
    """Symbols whose short or fully-qualified name contains `query`, latest versions only."""
    query = query.strip()
    if len(query) < 2:
        return ApiSymbol.objects.none()
    latest_ids = _latest_version_ids()
    return (
        ApiSymbol.objects.filter(version_id__in=latest_ids)
        .filter(Q(name__icontains=query) | Q(full_name__icontains=query))
        .select_related("version__definition__component")
        .order_by("name", "full_name")[:limit]
    )


def _latest_version_ids():
    from django.db.models import Max

    return (
        ApiVersion.objects.values("definition_id")
        .annotate(latest=Max("id"))
        .values_list("latest", flat=True)
    )


def publishable_components(*, user):
    """Components `user` may publish an API for (the rule of `apidocs.add_apidefinition`):
    every service for SREs and platform admins, else those of the user's teams."""
    components = Component.objects.filter(entity_kind=Component.EntityKind.COMPONENT)
    if not user.is_authenticated:
        return components.none()
    if is_sre(user) or is_platform_admin(user):
        return components.filter(parent__isnull=True).order_by("name")
    return components.filter(owner__memberships__user=user).order_by("name")
