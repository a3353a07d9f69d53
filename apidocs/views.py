from django.shortcuts import render

from catalog.models import Component


def api_list(request):
    """Every API in the catalog, with its owner and type."""
    apis = Component.objects.filter(entity_kind=Component.EntityKind.API).select_related("owner")
    return render(request, "apidocs/api_list.html", {"apis": apis})
