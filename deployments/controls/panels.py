"""The controls wing's card on the service page (see portal/panels.py)."""

from catalog.models import Component
from portal.panels import SERVICE, Panel, register


@register
class LiveDeploymentsPanel(Panel):
    """One placeholder per environment that htmx fills, so the page never waits on Kubernetes."""

    name = "live-deployments"
    title = "Live deployments"
    permission = "deployments.view_controlaction"
    url_name = "deployments:panel_live_deployments"
    template = "deployments/controls/control_tag.html"
    model = Component
    pages = {SERVICE: ("main", 30)}

    def context(self, request, target, page) -> dict:
        # The service page's ComponentEnvironment rows when it has them (no query of its own).
        # (An empty list is an answer too: a component deployed nowhere costs no query.)
        if "deployments" in page:
            rows = page["deployments"]
        else:
            rows = target.deployments.select_related("environment")
        targets = (t for t in rows if t.kube_deployment)
        return {
            "component": target,
            "targets": sorted(targets, key=lambda t: t.environment.order),
        }
