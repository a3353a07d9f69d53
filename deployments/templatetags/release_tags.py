"""The releases panel on a service page: what runs where, what is moving, what waits."""

from django import template

from catalog.models import Component
from deployments.releases.forms import ReasonForm
from deployments.releases.models import Release
from deployments.releases.selectors import running_versions

register = template.Library()


@register.inclusion_tag("deployments/releases/_release_panel.html", takes_context=True)
def release_panel(context, component: Component, targets=None):
    """`targets`: the component's ComponentEnvironment rows, when the page has them already."""
    user = context["request"].user
    active = list(
        Release.objects.filter(component=component, state__in=Release.ACTIVE_STATES)
        .select_related("environment", "requested_by", "component__owner")
        .order_by("environment__order")
    )
    running = running_versions(component)
    rows = [
        {
            "environment": target.environment,
            "running": running.get(target.environment_id),
            "active": next((r for r in active if r.environment_id == target.environment_id), None),
        }
        for target in (
            targets if targets is not None else component.deployments.select_related("environment")
        )
    ]
    recent = list(
        Release.objects.filter(component=component)
        .select_related("environment", "requested_by")
        .order_by("-created_at")[:5]
    )
    pending = list(
        # Through the relation: releases import nothing of approvals (approvals -> deployments).
        component.approval_requests.filter(state="pending").select_related("environment", "release")
    )
    return {
        "pending_approvals": pending,
        "component": component,
        "rows": rows,
        "active": active,
        "recent": recent,
        "can_release": user.has_perm("deployments.start_release", component),
        "reason_form": ReasonForm(),
        "request": context["request"],
        "user": user,
        "csrf_token": context.get("csrf_token"),
    }
