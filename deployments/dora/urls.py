"""DORA pages (mounted under /releases/ by deployments/urls.py): each page and its CSV."""

from django.urls import path

from portal.panels import panel_fragment

from . import views

CSV = {"export": True}

urlpatterns = [
    path("dora/", views.dora_organisation, name="dora_organisation"),
    path("dora/export.csv", views.dora_organisation, CSV, name="dora_organisation_csv"),
    path("dora/namespaces/<str:mns>/<str:name>/", views.dora_namespace, name="dora_namespace"),
    path(
        "dora/namespaces/<str:mns>/<str:name>/export.csv",
        views.dora_namespace,
        CSV,
        name="dora_namespace_csv",
    ),
    path("dora/teams/<str:mns>/<str:name>/", views.dora_team, name="dora_team"),
    path("dora/teams/<str:mns>/<str:name>/export.csv", views.dora_team, CSV, name="dora_team_csv"),
    path("dora/services/<int:pk>/", views.dora_service, name="dora_service"),
    path("dora/services/<int:pk>/export.csv", views.dora_service, CSV, name="dora_service_csv"),
    path(
        "components/<int:pk>/panels/delivery/",
        panel_fragment,
        {"panel": "delivery"},
        name="panel_delivery",
    ),
]
