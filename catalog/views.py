from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render

from .models import Component, Namespace, Team
from .selectors import component_search


def catalog_home(request):
    namespaces = Namespace.objects.annotate(
        system_count=Count("systems", distinct=True),
        component_count=Count(
            "components", filter=Q(components__parent__isnull=True), distinct=True
        ),
    )
    return render(request, "catalog/catalog_home.html", {"namespaces": namespaces})


def component_list(request):
    query = request.GET.get("q", "").strip()
    components = (
        component_search(query=query)
        if query
        else Component.objects.select_related("owner", "namespace", "parent")
    )
    page = Paginator(components.order_by("name"), 50).get_page(request.GET.get("page"))
    return render(request, "catalog/component_list.html", {"page": page, "q": query})


def namespace_detail(request, mns, name):
    namespace = get_object_or_404(Namespace, metadata_namespace=mns, name=name)
    components = namespace.components.filter(parent__isnull=True).select_related("owner", "system")
    return render(
        request,
        "catalog/namespace_detail.html",
        {"namespace": namespace, "systems": namespace.systems.all(), "components": components},
    )


def team_detail(request, mns, name):
    team = get_object_or_404(Team, metadata_namespace=mns, name=name)
    return render(
        request,
        "catalog/team_detail.html",
        {"team": team, "components": team.components.select_related("namespace", "parent")},
    )


def component_detail(request, mns, kind, name):
    component = get_object_or_404(
        Component.objects.select_related("owner", "system", "namespace", "parent"),
        metadata_namespace=mns,
        entity_kind__iexact=kind,
        name=name,
    )
    return render(
        request,
        "catalog/component_detail.html",
        {"component": component, "subcomponents": component.subcomponents.select_related("owner")},
    )
