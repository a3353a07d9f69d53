"""`{% load audit_tags %}{% recent_activity component %}`: a component's latest audit events."""

import json

from django import template

from portal.selectors import audit_events_recent

register = template.Library()


@register.inclusion_tag("portal/audit_recent.html")
def recent_activity(component, limit: int = 10):
    """Two queries whatever the page: the events, with their actors, in one select."""
    return {"component": component, "events": audit_events_recent(component=component, limit=limit)}


def _shown(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


@register.filter
def audit_changes(event) -> list[tuple[str, str, str, bool]]:
    """(field, before, after, changed) rows of an event's before/after, for people to read."""
    before, after = event.before, event.after
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        keys = list(dict.fromkeys([*before, *after]))
        return [
            (
                key,
                _shown(before.get(key)),
                _shown(after.get(key)),
                before.get(key) != after.get(key),
            )
            for key in keys
        ]
    if before is None and after is None:
        return []
    return [("", _shown(before), _shown(after), before != after)]
