"""Live deployments, knob changes within the guardrails, runtime tuning and its JSON endpoint."""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from catalog.models import Component, ComponentEnvironment
from portal.audit import AuditContext
from portal.decorators import mutating
from portal.errors import PermissionDenied, PortalError

from . import controls, tuning
from .models import ControlAction, ControlPolicy, RuntimeToken, TuningKey

KNOB_FIELDS = {
    ControlAction.Kind.SCALE: ("replicas",),
    ControlAction.Kind.HPA: ("min_replicas", "max_replicas", "target_cpu_utilization"),
    ControlAction.Kind.RESTART: (),
}


def _target(component_id, env) -> ComponentEnvironment:
    return get_object_or_404(
        ComponentEnvironment.objects.select_related("component__owner", "environment"),
        component_id=component_id,
        environment__name=env,
    )


def _live_context(request, target, *, message="", error="", values=None) -> dict:
    live = controls.control_live(target)
    policy = controls.control_policy_for(target)
    knobs = []
    for kind, perm in controls.PERMS.items():
        knob = controls.KNOBS[kind]
        if policy is None or not policy.knob_enabled(knob):
            continue
        if kind == ControlAction.Kind.HPA and live.known and live.info.hpa is None:
            continue
        knobs.append(
            {
                "kind": kind,
                "allowed": request.user.has_perm(perm, target),
                "roles": [ControlPolicy.Role(r).label for r in policy.knob_roles(knob)],
                "warnings": controls.control_warnings(kind, policy, live),
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
        "limits": controls.Limits.of(policy) if policy else None,
        "knobs": {k["kind"]: k for k in knobs},
        "actions": actions,
        "pending": any(not a.is_finished for a in actions),
        "message": message,
        "error": error,
        "values": values or {},
    }


def _render_live(request, context, status=200):
    template = "deployments/control_live.html"
    if request.htmx:
        template += "#env"
    return render(request, template, context, status=status)


@require_GET
def control_live(request, component_id, env):
    """One environment's live deployment and its controls (an htmx fragment, or a page)."""
    target = _target(component_id, env)
    return _render_live(request, _live_context(request, target))


@require_GET
def control_actions(request, component_id, env):
    """The recent actions list, polled while one is still queued."""
    target = _target(component_id, env)
    actions = list(
        ControlAction.objects.filter(
            component_id=target.component_id, environment_id=target.environment_id
        ).select_related("requested_by")[:5]
    )
    pending = any(not a.is_finished for a in actions)
    context = {"target": target, "actions": actions, "pending": pending}
    response = render(request, "deployments/control_live.html#actions", context)
    if not pending and request.htmx:
        response.status_code = 286  # htmx stops polling
    return response


def _knob_change(request, component_id, env, kind):
    target = _target(component_id, env)
    values = {name: request.POST.get(name, "") for name in KNOB_FIELDS[kind]}
    reason = request.POST.get("reason", "")
    try:
        action = controls.control_request(
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
    except controls.ConfirmationNeeded as exc:
        context = {"target": target, "kind": kind, "values": values, "reason": reason}
        context |= {"message": exc.message, "warnings": _warnings(target, kind)}
        template = "deployments/control_confirm.html"
        return render(request, template + ("#confirm" if request.htmx else ""), context)
    except PortalError as exc:
        values["reason"] = reason
        return _render_live(
            request, _live_context(request, target, error=exc.message, values=values)
        )
    message = f"{action.get_kind_display()} requested: {action.get_state_display().lower()}."
    return _render_live(request, _live_context(request, target, message=message))


def _warnings(target, kind):
    return controls.control_warnings(
        kind, controls.control_policy_for(target), controls.control_live(target)
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


# -- runtime tuning ------------------------------------------------------------------------


def _tuning_env_context(request, target, *, message="", error="", token=""):
    return {
        "target": target,
        "component": target.component,
        "environment": target.environment,
        "values": tuning.runtime_values(target.component, target.environment),
        "can_tune": request.user.has_perm("deployments.change_tuningvalue", target),
        "configmap": tuning.configmap_name(target),
        "message": message,
        "error": error,
    }


@require_GET
def tuning_page(request, component_id):
    component = get_object_or_404(Component.objects.select_related("owner"), pk=component_id)
    targets = component.deployments.select_related("environment", "component__owner").order_by(
        "environment__order"
    )
    return render(
        request,
        "deployments/tuning_page.html",
        {
            "component": component,
            "envs": [_tuning_env_context(request, target) for target in targets],
            "can_issue": request.user.has_perm("deployments.issue_runtimetoken", component),
            "token_row": RuntimeToken.objects.filter(component=component).first(),
        },
    )


def _tuning_change(request, key_id, env, change):
    key = get_object_or_404(TuningKey.objects.select_related("component__owner"), pk=key_id)
    target = _target(key.component_id, env)
    try:
        message = change(key, target)
    except PermissionDenied:
        raise
    except PortalError as exc:
        context = _tuning_env_context(request, target, error=exc.message)
    else:
        context = _tuning_env_context(request, target, message=message)
    if request.htmx:
        return render(request, "deployments/tuning_page.html#env", {"env": context})
    level = messages.error if context["error"] else messages.success
    level(request, context["error"] or context["message"])
    return redirect("deployments:tuning_page", key.component_id)


@mutating
def tuning_set(request, key_id, env):
    def change(key, target):
        tuning.tuning_set(
            actor=request.user,
            key=key,
            environment=target.environment,
            raw=request.POST.get("value", ""),
            reason=request.POST.get("reason", ""),
            context=AuditContext.from_request(request),
        )
        return f"{key.key} saved; it reaches the service through {tuning.configmap_name(target)}."

    return _tuning_change(request, key_id, env, change)


@mutating
def tuning_override(request, key_id, env):
    def change(key, target):
        value = tuning.tuning_override(
            actor=request.user,
            key=key,
            environment=target.environment,
            raw=request.POST.get("value", ""),
            minutes=request.POST.get("minutes", ""),
            reason=request.POST.get("reason", ""),
            context=AuditContext.from_request(request),
        )
        return f"{key.key} overridden until {value.override_until:%H:%M} UTC; it then reverts."

    return _tuning_change(request, key_id, env, change)


@mutating
def tuning_revert(request, key_id, env):
    def change(key, target):
        value = tuning.tuning_value_for(key=key, environment=target.environment)
        if value.pk is None:
            raise Http404("nothing to revert")
        tuning.tuning_revert(
            actor=request.user,
            value=value,
            until=_parse_until(request.POST.get("until", "")),
            reason=request.POST.get("reason", "") or "reverted early",
            context=AuditContext.from_request(request),
        )
        return f"{key.key} is back to its lasting value."

    return _tuning_change(request, key_id, env, change)


def _parse_until(raw: str):
    try:
        return datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@mutating
def runtime_token_issue(request, component_id):
    component = get_object_or_404(Component.objects.select_related("owner"), pk=component_id)
    token = tuning.runtime_token_issue(
        actor=request.user, component=component, context=AuditContext.from_request(request)
    )
    return render(
        request,
        "deployments/tuning_token.html",
        {"component": component, "token": token},
    )


@login_not_required
@require_GET
def runtime_json(request, component, env):
    """A service reads its runtime values: `Authorization: Bearer <its token>`. Read-only."""
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    found = tuning.runtime_token_check(token, component)
    if found is None:
        response = JsonResponse({"error": "missing or wrong token for this service"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="switchyard-runtime"'
        return response
    target = ComponentEnvironment.objects.filter(component=found, environment__name=env).first()
    if target is None:
        return JsonResponse({"error": f"{component} does not run in {env}"}, status=404)
    response = JsonResponse(
        tuning.runtime_snapshot(found, target.environment), json_dumps_params={"indent": 1}
    )
    response["Cache-Control"] = "no-store"
    return response
