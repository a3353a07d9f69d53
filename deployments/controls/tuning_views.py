"""Runtime tuning pages, the runtime token and the services' read-only JSON endpoint."""

from datetime import datetime

import rules
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling

from catalog.models import Component, ComponentEnvironment
from portal.audit import AuditContext
from portal.decorators import mutating
from portal.errors import PortalError

from . import tuning, tuning_machine, tuning_reads
from .models import RuntimeToken, TuningKey
from .selectors import target_get_or_404


def _tuning_env_context(request, target, *, message="", error="", token=""):
    values = tuning_machine.runtime_values(target.component, target.environment)
    for value in values:
        # Saved after its last delivery, and no failure since: the worker has not written it yet.
        value.delivering = bool(
            value.pk
            and not value.push_error
            and (value.pushed_at is None or value.pushed_at < value.updated_at)
        )
    pushed = [v.pushed_at for v in values if v.pushed_at]
    return {
        "target": target,
        "component": target.component,
        "environment": target.environment,
        "values": values,
        "delivering": any(v.delivering for v in values),
        "delivery_failed": any(v.push_error for v in values),
        "delivered_at": max(pushed, default=None),
        "can_tune": rules.has_perm("deployments.change_tuningvalue", request.user, target),
        "configmap": tuning_machine.configmap_name(target),
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
        "deployments/controls/tuning_page.html",
        {
            "component": component,
            "envs": [_tuning_env_context(request, target) for target in targets],
            "can_issue": rules.has_perm("deployments.issue_runtimetoken", request.user, component),
            "token_row": RuntimeToken.objects.filter(component=component).first(),
        },
    )


@require_GET
def tuning_delivery(request, component_id, env):
    """The delivery line of one environment, polled after a change until the ConfigMap has it."""
    target = target_get_or_404(component_id, env)
    context = {"env": _tuning_env_context(request, target), "oob": True}
    if not request.htmx:
        return redirect(f"{reverse('deployments:tuning_page', args=[component_id])}#tuning-{env}")
    response = render(request, "deployments/controls/tuning_page.html#delivery", context)
    return response if context["env"]["delivering"] else HttpResponseStopPolling(response.content)


@require_GET
def tuning_reads_view(request, component_id, env):
    """What the service reads from its runtime ConfigMap in `env` (lazy: it reads the cluster)."""
    target = target_get_or_404(component_id, env)
    context = {"target": target, "reads": tuning_reads.tuning_reads(target)}
    if request.htmx:
        return render(request, "deployments/controls/tuning_page.html#reads", context)
    return render(request, "deployments/controls/tuning_reads.html", context)


def _tuning_change(request, key_id, env, change):
    key = get_object_or_404(TuningKey.objects.select_related("component__owner"), pk=key_id)
    target = target_get_or_404(key.component_id, env)
    try:
        message = change(key, target)
    except PortalError as exc:
        context = _tuning_env_context(request, target, error=exc.message)
    else:
        context = _tuning_env_context(request, target, message=message)
    if request.htmx:
        return render(request, "deployments/controls/tuning_page.html#env", {"env": context})
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
        configmap = tuning_machine.configmap_name(target)
        return f"{key.key} saved; it reaches the service through {configmap}."

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
        "deployments/controls/tuning_token.html",
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
        tuning_machine.runtime_snapshot(found, target.environment), json_dumps_params={"indent": 1}
    )
    response["Cache-Control"] = "no-store"
    return response
