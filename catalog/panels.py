"""The catalog's cards on the service, release and approval pages (see portal/panels.py)."""

from portal.panels import APPROVAL, RELEASE, SERVICE, Panel, register

from .models import Component


class ComponentPanel(Panel):
    """A card about a component: on the release and approval pages, the subject's component."""

    permission = "catalog.view_service"
    model = Component

    def target(self, subject):
        return subject if isinstance(subject, Component) else subject.component

    def context(self, request, target, page) -> dict:
        return {"component": target}


class ServicePagePanel(ComponentPanel):
    """A card of the service page's own data: the page loads it; the fragment loads it alone."""

    page_key = ""  # the page context key that says the page loaded this card's data already

    def load(self, pk: int):
        from django.shortcuts import get_object_or_404

        from .views import service_queryset

        return get_object_or_404(service_queryset(), pk=pk)

    def context(self, request, target, page) -> dict:
        if self.page_key in page:
            return {}
        return {"component": target} | self.compute(target)

    def compute(self, target) -> dict:
        raise NotImplementedError


@register
class OverviewPanel(ServicePagePanel):
    name = "overview"
    title = "Subcomponents and environments"
    url_name = "catalog:panel_overview"
    template = "catalog/component_detail.html#overview"
    page_key = "subcomponents"
    pages = {SERVICE: ("main", 5)}

    def compute(self, target) -> dict:
        from .views import overview_context

        return overview_context(target)


@register
class DependenciesPanel(ServicePagePanel):
    name = "dependencies"
    title = "Direct dependencies"
    url_name = "catalog:panel_dependencies"
    template = "catalog/component_detail.html#dependencies"
    page_key = "depends_on"
    pages = {SERVICE: ("wide", 5)}

    def compute(self, target) -> dict:
        from .views import dependencies_context

        return dependencies_context(target)


@register
class GraphPanel(ComponentPanel):
    name = "graph"
    title = "Service graph"
    url_name = "catalog:panel_graph"
    template = "catalog/_service_graph.html"
    pages = {SERVICE: ("main", 40), RELEASE: ("wide", 10), APPROVAL: ("wide", 10)}


@register
class BlastPanel(ComponentPanel):
    """Inline on the service page (it is that page's #blast fragment), lazy beside releases."""

    name = "blast"
    title = "Blast radius"
    url_name = "catalog:component_detail"
    template = "catalog/component_detail.html#blast"
    placeholder = "catalog/component_detail.html#blast_placeholder"
    pages = {SERVICE: ("wide", 10), RELEASE: ("wide", 20), APPROVAL: ("wide", 20)}

    def url_args(self, target) -> list:
        return [target.metadata_namespace, target.entity_kind.lower(), target.name]

    def is_lazy(self, page: str) -> bool:
        return page != SERVICE

    def context(self, request, target, page) -> dict:
        if "radius" in page:  # the service page computed it (it also answers the htmx filter)
            return {}
        from .views import blast_context

        return blast_context(request, target)


@register
class OwnersPanel(ComponentPanel):
    name = "owners"
    title = "Owners"
    url_name = "catalog:panel_owners"
    template = "catalog/component_detail.html#owners"
    pages = {RELEASE: ("aside", 20)}


@register
class ActivityPanel(ComponentPanel):
    """The component's latest audit events, loaded after the page (two queries of its own)."""

    name = "activity"
    title = "Recent activity"
    permission = "portal.view_auditevent"
    url_name = "catalog:panel_activity"
    template = "portal/audit_recent.html"
    lazy = True
    pages = {SERVICE: ("wide", 20)}

    def context(self, request, target, page) -> dict:
        from portal.selectors import audit_events_recent

        return {"component": target, "events": audit_events_recent(component=target, limit=10)}
