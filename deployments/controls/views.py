"""Live deployments and knob changes within the guardrails."""

from datetime import timedelta

import rules
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling

from portal.audit import AuditContext
from portal.decorators import mutating
from portal.errors import PortalError

from . import selectors, services
from .knobs import KNOBS
from .models import ControlAction, ControlPolicy


def _live_context(request, target, *, message="", error="", values=None, live=None) -> dict:
    live = live or selectors.control_live(target)
    policy = selectors.control_policy_for(target)
    knobs = []
    for knob in KNOBS.values():
        if policy is None or not policy.knob_enabled(knob.policy_prefix):
            continue
        if live.known and not knob.available(live.info):
            continue
        roles = policy.knob_roles(knob.policy_prefix)
        knobs.append(
            {
                "knob": knob,
                "kind": knob.name,
                "allowed": rules.has_perm(knob.permission, request.user, target),
                "roles": [ControlPolicy.Role(r).label for r in roles],
                "warnings": selectors.control_warnings(knob.name, policy, live),
                "limits": knob.limits(policy),
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
        "knobs": knobs,
        "actions": actions,
        "pending": any(not a.is_finished for a in actions),
        "settling": _settling(live, actions),
        "message": message,
        "error": error,
        "values": values or {},
    }


SETTLE_WINDOW = timedelta(minutes=5)


def _settling(live, actions) -> bool:
    """After a recent action, until it is done and Kubernetes shows its result (every replica
    ready and rolled out): the live card then reads Kubernetes again every 2 s."""
    recent = [a for a in actions if a.created_at >= timezone.now() - SETTLE_WINDOW]
    if not recent:
        return False
    if any(not a.is_finished for a in recent):
        return True
    info = live.info if live.known else None
    return info is not None and not (
        info.rolled_out and info.replicas_ready == info.replicas_desired
    )


def _render_live(request, context, status=200):
    template = "deployments/controls/control_live.html"
    if request.htmx:
        template += "#env"
    return render(request, template, context, status=status)


@require_GET
def control_live(request, component_id, env):
    """One environment's live deployment and its controls (an htmx fragment, or a page)."""
    target = selectors.target_get_or_404(component_id, env)
    context = _live_context(request, target)
    if request.htmx and request.GET.get("part") == "state":
        # The card's read-only half, polled while an action settles; the knobs' forms are left
        # alone so nobody's typing is replaced. 286 stops the polling once it has settled.
        response = render(request, "deployments/controls/control_live.html#state", context)
        return response if context["settling"] else HttpResponseStopPolling(response.content)
    return _render_live(request, context)


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
        return HttpResponseStopPolling(response.content)  # htmx swaps it in and stops polling
    return response


@mutating
def control_change(request, component_id, env, knob):
    """Turn the knob named `knob` (one of controls/knobs/) on one environment's deployment."""
    if knob not in KNOBS:
        raise Http404(f"no knob called {knob}")
    kind = knob
    target = selectors.target_get_or_404(component_id, env)
    values = {name: request.POST.get(name, "") for name in KNOBS[kind].fields}
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
    except services.ConfirmationNeeded as exc:
        context = {"target": target, "kind": kind, "knob": KNOBS[kind], "values": values}
        context |= {"reason": reason}
        context |= {"message": exc.message, "warnings": _warnings(target, kind)}
        template = "deployments/controls/control_confirm.html"
        return render(request, template + ("#confirm" if request.htmx else ""), context)
    except PortalError as exc:
        values["reason"] = reason
        # A refusal because the cluster cannot be read carries that read: not a second wait.
        live = getattr(exc, "live", None)
        return _render_live(
            request, _live_context(request, target, error=exc.message, values=values, live=live)
        )
    message = f"{action.kind_label} requested: {action.get_state_display().lower()}."
    return _render_live(request, _live_context(request, target, message=message))


def _warnings(target, kind):
    return selectors.control_warnings(
        kind, selectors.control_policy_for(target), selectors.control_live(target)
    )
