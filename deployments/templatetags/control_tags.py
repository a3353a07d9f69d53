"""The live deployments card of a service page: placeholders that htmx fills per environment,
so the page itself never waits on Kubernetes."""

from django import template

from catalog.models import Component

register = template.Library()


@register.inclusion_tag("deployments/controls/control_tag.html", takes_context=True)
def live_deployments(context, component: Component, targets=None):
    """`targets`: the component's ComponentEnvironment rows, when the page has them already."""
    if targets is None:
        targets = component.deployments.select_related("environment")
    return {
        "component": component,
        "targets": sorted(
            (t for t in targets if t.kube_deployment), key=lambda t: t.environment.order
        ),
        "request": context.get("request"),
    }
