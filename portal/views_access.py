"""Pages of identity and access: the audit log, its export, and team membership."""

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from catalog.models import Team

from .audit import AuditContext, checkpoint_fields, export_row
from .decorators import mutating
from .errors import PermissionDenied, ValidationFailed
from .forms import MembershipAddForm
from .models import AuditEvent, TeamMembership
from .selectors import AUDIT_SHOW, audit_events_filter
from .services import audit_export_begin, membership_add, membership_remove

AUDIT_PAGE_SIZE = 50


def forbidden(request, message: str):
    return render(request, "portal/forbidden.html", {"message": message}, status=403)


@require_safe
def audit_list(request):
    """Every recorded action, newest first, filterable; one page costs a constant few queries."""
    if not request.user.has_perm("portal.view_auditevent"):
        return forbidden(request, "You cannot read the audit log.")
    params = request.GET.copy()
    params.setdefault("show", "changes")
    events, applied, errors = audit_events_filter(params)
    if errors:
        events = events.none()
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode(applied)
    context = {
        "page": page,
        "filters": applied,
        "errors": errors,
        "query": query,
        "outcomes": AuditEvent.Outcome.values,
        "show_choices": AUDIT_SHOW,
        "can_export": request.user.has_perm("portal.export_auditevent"),
    }
    return render(request, "portal/audit_list.html", context)


def _jsonl(events, *, applied: dict, checkpoint):
    """A header line, one line per event (every hashed field, so `portal/audit_chain.py`
    verifies it offline) and the signed checkpoint as the last line."""
    yield json.dumps({"export": {"filters": applied}}, sort_keys=True) + "\n"
    for event in events.iterator(chunk_size=1000):
        row = export_row(event)
        row["actor"] = event.actor_label
        row["component"] = event.component.name if event.component_id else None
        yield json.dumps(row, sort_keys=True) + "\n"
    if checkpoint is not None:
        yield json.dumps({"checkpoint": checkpoint_fields(checkpoint)}, sort_keys=True) + "\n"


@require_safe
def audit_export(request):
    """The filtered audit log as JSON Lines (one event per line, oldest first). SREs and
    platform admins; the export itself is audited."""
    try:
        events, applied, checkpoint = audit_export_begin(
            actor=request.user, params=request.GET, context=AuditContext.from_request(request)
        )
    except PermissionDenied as exc:
        return forbidden(request, exc.message)
    except ValidationFailed as exc:
        return render(request, "portal/forbidden.html", {"message": exc.message}, status=400)
    rows = events.select_related("component").order_by("id")
    response = StreamingHttpResponse(
        _jsonl(rows, applied=applied, checkpoint=checkpoint), content_type="application/x-ndjson"
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="switchyard-audit-{stamp}.jsonl"'
    return response


@require_safe
def team_members(request, mns, name):
    """Who is in a team, where each membership comes from, and (for leads) add/remove."""
    team = get_object_or_404(Team, metadata_namespace=mns, name=name)
    memberships = team.memberships.select_related("user").order_by("user__username")
    context = {
        "team": team,
        "memberships": memberships,
        "form": MembershipAddForm(),
        "can_manage": request.user.has_perm("portal.add_teammembership", team),
    }
    return render(request, "portal/team_members.html", context)


@mutating
def team_member_add(request, mns, name):
    team = get_object_or_404(Team, metadata_namespace=mns, name=name)
    form = MembershipAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("portal:team_members", mns=mns, name=name)
    try:
        membership_add(
            actor=request.user,
            team=team,
            user=form.cleaned_data["username"],
            role=form.cleaned_data["role"],
            context=AuditContext.from_request(request),
        )
    except PermissionDenied as exc:
        return forbidden(request, exc.message)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Added {form.cleaned_data['username']} to {team}.")
    return redirect("portal:team_members", mns=mns, name=name)


@mutating
def team_member_remove(request, pk):
    membership = get_object_or_404(TeamMembership.objects.select_related("team", "user"), pk=pk)
    team = membership.team
    try:
        membership_remove(
            actor=request.user, membership=membership, context=AuditContext.from_request(request)
        )
    except PermissionDenied as exc:
        return forbidden(request, exc.message)
    note = " It comes back at their next SSO sign-in unless their SSO group changes too."
    messages.success(
        request,
        f"Removed {membership.user} from {team}."
        + (note if membership.source == TeamMembership.Source.SSO else ""),
    )
    return redirect("portal:team_members", mns=team.metadata_namespace, name=team.name)
