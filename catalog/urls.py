from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.catalog_home, name="home"),
    path("components/", views.component_list, name="component_list"),
    path("namespaces/<str:mns>/<str:name>/", views.namespace_detail, name="namespace_detail"),
    path("teams/<str:mns>/<str:name>/", views.team_detail, name="team_detail"),
    path("<str:mns>/<str:kind>/<str:name>/", views.component_detail, name="component_detail"),
    path(
        "<str:mns>/<str:kind>/<str:name>/graph.json",
        views.component_graph,
        name="component_graph",
    ),
]
