"""Catalog reads reused by several views."""

from django.db.models import Q, QuerySet

from .models import Component


def component_search(*, query: str) -> QuerySet[Component]:
    """Components whose name, title, description or tags match `query` (case-insensitive)."""
    terms = query.split()
    qs = Component.objects.select_related("owner", "namespace", "parent")
    for term in terms:
        qs = qs.filter(
            Q(name__icontains=term)
            | Q(title__icontains=term)
            | Q(description__icontains=term)
            | Q(tags__icontains=term)
        )
    return qs.order_by("name")
