"""The service page's delivery card: the four keys over 12 weeks, linking to the charts."""

from django.db.models import Q

from catalog.models import Component
from portal.panels import SERVICE, Panel, register

from .selectors import Scope, dora_cached


@register
class DeliveryPanel(Panel):
    name = "delivery"
    title = "Delivery (DORA)"
    permission = "deployments.view_release"
    url_name = "deployments:panel_delivery"
    template = "deployments/dora/_delivery_panel.html"
    model = Component
    lazy = True
    pages = {SERVICE: ("main", 25)}

    def context(self, request, target, page) -> dict:
        scope = Scope("service", str(target), Q(pk=target.pk), key=f"service:{target.pk}")
        return {"component": target, "dora": dora_cached(scope)}
