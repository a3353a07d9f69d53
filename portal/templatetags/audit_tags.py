"""`{% load audit_tags %}{% recent_activity component %}`: a component's latest audit events."""

from django import template

from portal.selectors import audit_events_recent

register = template.Library()


@register.inclusion_tag("portal/audit_recent.html")
def recent_activity(component, limit: int = 10):
    """Two queries whatever the page: the events, with their actors, in one select."""
    return {"component": component, "events": audit_events_recent(component=component, limit=limit)}
