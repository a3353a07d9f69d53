from django.shortcuts import render


def release_list(request):
    """Active and recent releases across the organisation."""
    return render(request, "deployments/release_list.html", {})
