from django.urls import path

from portal.panels import panel_fragment

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.catalog_home, name="home"),
    path("components/", views.component_list, name="component_list"),
    path("namespaces/<str:mns>/<str:name>/", views.namespace_detail, name="namespace_detail"),
    path("teams/<str:mns>/<str:name>/", views.team_detail, name="team_detail"),
    # Panel fragments (portal/panels.py) before the catch-all service page URL.
    path(
        "panels/<int:pk>/overview/",
        panel_fragment,
        {"panel": "overview"},
        name="panel_overview",
    ),
    path(
        "panels/<int:pk>/dependencies/",
        panel_fragment,
        {"panel": "dependencies"},
        name="panel_dependencies",
    ),
    path("panels/<int:pk>/graph/", panel_fragment, {"panel": "graph"}, name="panel_graph"),
    path("panels/<int:pk>/owners/", panel_fragment, {"panel": "owners"}, name="panel_owners"),
    path(
        "panels/<int:pk>/activity/",
        panel_fragment,
        {"panel": "activity"},
        name="panel_activity",
    ),
    path("<str:mns>/<str:kind>/<str:name>/", views.component_detail, name="component_detail"),
    path(
        "<str:mns>/<str:kind>/<str:name>/graph.json",
        views.component_graph,
        name="component_graph",
    ),
]
