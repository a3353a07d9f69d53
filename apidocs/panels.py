"""The API registry's card on the service page (see portal/panels.py)."""

from catalog.models import Component
from portal.panels import SERVICE, Panel, register


@register
class ApisPanel(Panel):
    """The APIs a component provides and consumes, its published definitions and, for those who
    may, "Publish a version"."""

    name = "apis"
    title = "APIs"
    permission = "catalog.view_service"
    url_name = "apidocs:panel_apis"
    template = "apidocs/_component_apis.html"
    model = Component
    lazy = True
    pages = {SERVICE: ("main", 35)}

    def context(self, request, target, page) -> dict:
        return {"component": target}
