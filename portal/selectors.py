"""Reads of the portal app reused by views, exports and template tags."""

from datetime import datetime, time

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AuditEvent

AUDIT_FILTERS = ("actor", "action", "outcome", "component", "since", "until", "show")
# `show`: which kind of events. Sign-ins outnumber changes several to one on a quiet day, so the
# audit page asks for changes unless told otherwise (the export takes what the page shows).
AUDIT_SHOW = {"changes": "Changes and refusals", "sign-ins": "Sign-ins", "all": "Everything"}
SIGN_IN_ACTIONS = Q(action__endswith="login") | Q(action__endswith="logout")


def _day(value: str, *, end: bool):
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


def audit_events_filter(params) -> tuple[QuerySet, dict[str, str], list[str]]:
    """Audit events matching the query parameters; also the applied filters and any errors.

    actor: username (exact) or machine label; action: prefix ("identity." or a full action);
    outcome: done/denied/failed; component: component name; since/until: YYYY-MM-DD (inclusive).
    """
    events = AuditEvent.objects.select_related("component", "actor")
    applied = {name: params.get(name, "").strip() for name in AUDIT_FILTERS}
    applied = {name: value for name, value in applied.items() if value}
    errors = []
    if "actor" in applied:
        events = events.filter(actor_label=applied["actor"])
    if "action" in applied:
        events = events.filter(action__startswith=applied["action"])
    if "outcome" in applied:
        if applied["outcome"] in AuditEvent.Outcome.values:
            events = events.filter(outcome=applied["outcome"])
        else:
            errors.append(f"Unknown outcome {applied['outcome']!r}: use done, denied or failed.")
    if "component" in applied:
        events = events.filter(component__name=applied["component"])
    show = applied.get("show", "all")
    if show not in AUDIT_SHOW:
        errors.append(f"Unknown show {show!r}: use {', '.join(AUDIT_SHOW)}.")
    elif show == "changes":
        events = events.exclude(SIGN_IN_ACTIONS)
    elif show == "sign-ins":
        events = events.filter(SIGN_IN_ACTIONS)
    for name, lookup in (("since", "created_at__gte"), ("until", "created_at__lte")):
        if name in applied:
            moment = _day(applied[name], end=name == "until")
            if moment is None:
                errors.append(f"{name} must be a date like 2025-01-31.")
            else:
                events = events.filter(**{lookup: moment})
    return events.order_by("-id"), applied, errors


def audit_events_recent(*, component, limit: int = 10) -> list[AuditEvent]:
    """The latest events about one component, for its service page."""
    return list(
        AuditEvent.objects.filter(component=component)
        .select_related("actor", "component")
        .order_by("-id")[:limit]
    )
