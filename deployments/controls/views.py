"""Live deployments and knob changes within the guardrails."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.audit import AuditContext
from portal.decorators import mutating
from portal.errors import PermissionDenied, PortalError

from . import selectors, services
from .models import ControlAction, ControlPolicy

KNOB_FIELDS = {
    ControlAction.Kind.SCALE: ("replicas",),
    ControlAction.Kind.HPA: ("min_replicas", "max_replicas", "target_cpu_utilization"),
    ControlAction.Kind.RESTART: (),
}


def _live_context(request, target, *, message="", error="", values=None) -> dict:
    live = selectors.control_live(target)
    policy = selectors.control_policy_for(target)
    knobs = []
    for kind, perm in services.PERMS.items():
        knob = services.KNOBS[kind]
        if policy is None or not policy.knob_enabled(knob):
            continue
        if kind == ControlAction.Kind.HPA and live.known and live.info.hpa is None:
            continue
        knobs.append(
            {
                "kind": kind,
                "allowed": request.user.has_perm(perm, target),
                "roles": [ControlPolicy.Role(r).label for r in policy.knob_roles(knob)],
                "warnings": selectors.control_warnings(kind, policy, live),
            }
        )
    actions = list(
        ControlAction.objects.filter(
            component_id=target.component_id, environment_id=target.environment_id
        ).select_related("requested_by")[:5]
    )
    return {
        "target": target,
        "component": target.component,
        "environment": target.environment,
        "live": live,
        "policy": policy,
        "limits": services.Limits.of(policy) if policy else None,
        "knobs": {k["kind"]: k for k in knobs},
        "actions": actions,
        "pending": any(not a.is_finished for a in actions),
        "message": message,
        "error": error,
        "values": values or {},
    }


def _render_live(request, context, status=200):
    template = "deployments/controls/control_live.html"
    if request.htmx:
        template += "#env"
    return render(request, template, context, status=status)


@require_GET
def control_live(request, component_id, env):
    """One environment's live deployment and its controls (an htmx fragment, or a page)."""
    target = selectors.target_get_or_404(component_id, env)
    return _render_live(request, _live_context(request, target))


@require_GET
def control_actions(request, component_id, env):
    """The recent actions list, polled while one is still queued."""
    target = selectors.target_get_or_404(component_id, env)
    actions = list(
        ControlAction.objects.filter(
            component_id=target.component_id, environment_id=target.environment_id
        ).select_related("requested_by")[:5]
    )
    pending = any(not a.is_finished for a in actions)
    context = {"target": target, "actions": actions, "pending": pending}
    response = render(request, "deployments/controls/control_live.html#actions", context)
    if not pending and request.htmx:
        response.status_code = 286  # htmx stops polling
    return response


def _knob_change(request, component_id, env, kind):
    target = selectors.target_get_or_404(component_id, env)
    values = {name: request.POST.get(name, "") for name in KNOB_FIELDS[kind]}
    reason = request.POST.get("reason", "")
    try:
        action = services.control_request(
            actor=request.user,
            target=target,
            kind=kind,
            params=values,
            reason=reason,
            confirmed=request.POST.get("confirm") == "1",
            context=AuditContext.from_request(request),
        )
    except PermissionDenied:
        raise
    except services.ConfirmationNeeded as exc:
        context = {"target": target, "kind": kind, "values": values, "reason": reason}
        context |= {"message": exc.message, "warnings": _warnings(target, kind)}
        template = "deployments/controls/control_confirm.html"
        return render(request, template + ("#confirm" if request.htmx else ""), context)
    except PortalError as exc:
        values["reason"] = reason
        return _render_live(
            request, _live_context(request, target, error=exc.message, values=values)
        )
    message = f"{action.get_kind_display()} requested: {action.get_state_display().lower()}."
    return _render_live(request, _live_context(request, target, message=message))


def _warnings(target, kind):
    return selectors.control_warnings(
        kind, selectors.control_policy_for(target), selectors.control_live(target)
    )


@mutating
def control_scale(request, component_id, env):
    return _knob_change(request, component_id, env, ControlAction.Kind.SCALE)


@mutating
def control_hpa(request, component_id, env):
    return _knob_change(request, component_id, env, ControlAction.Kind.HPA)


@mutating
def control_restart(request, component_id, env):
    return _knob_change(request, component_id, env, ControlAction.Kind.RESTART)
