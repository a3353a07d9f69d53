"""Analysis fragments (mounted under /releases/ by deployments/urls.py)."""

from django.urls import path

from portal.panels import panel_fragment

urlpatterns = [
    path("<int:pk>/panels/analysis/", panel_fragment, {"panel": "analysis"}, name="panel_analysis"),
]
