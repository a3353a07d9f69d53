"""The portal's front door: the landing page and the one search box. Both read the catalog,
so they live here; their URL names stay `portal:dashboard` and `portal:search`."""

from django.shortcuts import render

from portal.models import WorkerHeartbeat

from .models import Component, Environment, Namespace, Team
from .selectors import component_search


def dashboard(request):
    """The landing page: what is in the catalog and whether background work is moving."""
    context = {
        "counts": {
            "namespaces": Namespace.objects.count(),
            "components": Component.objects.filter(parent__isnull=True).count(),
            "teams": Team.objects.count(),
            "environments": Environment.objects.count(),
        },
        "heartbeats": WorkerHeartbeat.objects.all()[:5],
        "recent_components": Component.objects.select_related("owner").order_by("-updated_at")[:8],
        "my_memberships": request.user.team_memberships.select_related("team").order_by(
            "team__name"
        ),
    }
    return render(request, "portal/dashboard.html", context)


def search(request):
    """One search box for the whole portal: components by name, title, description or tag."""
    query = request.GET.get("q", "").strip()
    components = []
    teams = []
    if query:
        components = component_search(query=query)[:50]
        teams = Team.objects.filter(name__icontains=query)[:20]
    return render(
        request, "portal/search.html", {"q": query, "components": components, "teams": teams}
    )
