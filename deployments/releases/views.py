import rules
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseStopPolling

from catalog.models import Component, Environment
from portal.audit import AuditContext
from portal.decorators import mutating, mutating_form
from portal.errors import PermissionDenied, PortalError
from portal.panels import RELEASE, panels_for

from ..analysis.selectors import analysis_gate_open
from . import restore, services
from .forms import ReasonForm, ReleaseStartForm
from .freshness import release_observed_age, release_stale_reason
from .models import Release
from .selectors import (
    SPARK_HEIGHT,
    SPARK_WIDTH,
    environment_gated,
    error_rate_sparklines,
    release_versions,
)


def release_list(request):
    """Active and recent releases across the organisation, filtered from the URL."""
    releases = Release.objects.select_related("component", "environment", "requested_by")
    state = request.GET.get("state", "")
    if state == "active":
        releases = releases.filter(state__in=Release.ACTIVE_STATES)
    elif state in Release.State.values:
        releases = releases.filter(state=state)
    if env := request.GET.get("environment"):
        releases = releases.filter(environment__name=env)
    if q := request.GET.get("q", "").strip():
        releases = releases.filter(component__name__icontains=q)
    page = Paginator(releases, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "deployments/releases/release_list.html",
        {
            "page": page,
            "environments": Environment.objects.all(),
            "states": Release.State.choices,
            "filters": {"state": state, "environment": env or "", "q": q},
        },
    )


def _release(pk) -> Release:
    return get_object_or_404(
        Release.objects.select_related("component__owner", "environment", "requested_by"), pk=pk
    )


def release_detail(request, pk):
    release = _release(pk)
    context = {
        "release": release,
        "reason_form": ReasonForm(),
        "observed_age": release_observed_age(release),
        "stale_reason": release_stale_reason(release),
        "gate": _gate(request, release),
    }
    if request.htmx:
        response = render(request, "deployments/releases/release_detail.html#status", context)
        if release.is_terminal:
            # 286: htmx swaps this last state in and stops polling.
            return HttpResponseStopPolling(response.content)
        return response
    context["panels"] = panels_for(RELEASE, request, release)
    return render(request, "deployments/releases/release_detail.html", context)


def _gate(request, release) -> dict:
    """How promotion works here: a decision on the approval where the environment is gated
    (the approvals app owns that URL and its rules), a plain promote elsewhere."""
    if release.state != "paused":
        return {}
    if not environment_gated(release.environment):
        gate_open, soak = analysis_gate_open(release, offered="it may be promoted")
        return {
            "promote_url": reverse("deployments:release_promote", args=[release.pk]),
            "can_promote": rules.has_perm("deployments.promote_release", request.user, release),
            "soak": "" if gate_open else soak,
        }
    approval = release.approval_requests.filter(state="pending").first()
    gate_open, soak = analysis_gate_open(release)
    return {
        "gated": True,
        "approval": approval,
        "soak": "" if gate_open else soak,
        "promote_url": reverse("approvals:release_promote", args=[release.pk]),
        "can_promote": approval is not None
        and rules.has_perm("approvals.decide_approvalrequest", request.user, approval),
    }


@mutating_form
def release_start(request, component_id):
    component = get_object_or_404(Component.objects.select_related("owner"), pk=component_id)
    if request.method == "GET" and not rules.has_perm(
        "deployments.start_release", request.user, component
    ):
        raise PermissionDenied(
            f"Only {component.owner or 'the owning team'} and SREs may release it."
        )
    form = ReleaseStartForm(request.POST or None, component=component)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            release = services.release_start(
                actor=request.user,
                component=component,
                environment=data["environment"],
                version=data["version"],
                strategy=data["strategy"],
                canary_steps=data["canary_steps"] if data["strategy"] == "canary" else None,
                reason=data["reason"],
                context=AuditContext.from_request(request),
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, f"Release of {release.version} to {release.environment} queued."
            )
            return redirect(release)
    versions, versions_error = release_versions(component)
    return render(
        request,
        "deployments/releases/release_start.html",
        {
            "component": component,
            "form": form,
            "versions": versions,
            "versions_error": versions_error,
        },
    )


def _decide(request, pk, action):
    release = _release(pk)
    reason = request.POST.get("reason", "")
    try:
        result = action(release=release, reason=reason)
    except PortalError as exc:
        messages.error(request, exc.message)
        return redirect(release)
    return redirect(result)


@mutating
def release_promote(request, pk):
    full = request.POST.get("full") == "1"
    return _decide(
        request,
        pk,
        lambda release, reason: services.release_promote(
            actor=request.user,
            release=release,
            full=full,
            context=AuditContext.from_request(request),
        ),
    )


@mutating
def release_abort(request, pk):
    return _decide(
        request,
        pk,
        lambda release, reason: services.release_abort(
            actor=request.user,
            release=release,
            reason=reason,
            context=AuditContext.from_request(request),
        ),
    )


@mutating
def release_rollback(request, pk):
    return _decide(
        request,
        pk,
        lambda release, reason: services.release_rollback(
            actor=request.user,
            release=release,
            reason=reason,
            context=AuditContext.from_request(request),
        ),
    )


def release_errors(request, pk):
    """Error-rate sparklines of the new and stable versions (a fragment, refreshed every 15 s)."""
    release = _release(pk)
    lines, problem = error_rate_sparklines(release)
    return render(
        request,
        "deployments/releases/_error_rates.html",
        {
            "release": release,
            "lines": lines,
            "problem": problem,
            "width": SPARK_WIDTH,
            "height": SPARK_HEIGHT,
        },
    )


@mutating
def release_restore(request, component_id, environment):
    """Restore the last good version of the component in `environment` (service page button)."""
    component = get_object_or_404(Component.objects.select_related("owner"), pk=component_id)
    target = get_object_or_404(Environment, name=environment)
    try:
        release = restore.release_restore(
            actor=request.user,
            component=component,
            environment=target,
            reason=request.POST.get("reason", ""),
            context=AuditContext.from_request(request),
        )
    except PortalError as exc:
        messages.error(request, exc.message)
        return redirect(component)
    messages.success(request, f"Restoring {release.version} in {target}.")
    return redirect(release)
