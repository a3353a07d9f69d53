"""Release pages (mounted under /releases/ by deployments/urls.py)."""

from django.urls import path

from portal.panels import panel_fragment

from . import views

urlpatterns = [
    path("", views.release_list, name="release_list"),
    path("<int:pk>/", views.release_detail, name="release_detail"),
    path("start/<int:component_id>/", views.release_start, name="release_start"),
    path("<int:pk>/errors/", views.release_errors, name="release_errors"),
    path("<int:pk>/promote/", views.release_promote, name="release_promote"),
    path("<int:pk>/abort/", views.release_abort, name="release_abort"),
    path("<int:pk>/rollback/", views.release_rollback, name="release_rollback"),
    path(
        "restore/<int:component_id>/<str:environment>/",
        views.release_restore,
        name="release_restore",
    ),
    # Panel fragments (portal/panels.py; the panels are in deployments/releases/panels.py).
    path("<int:pk>/panels/rollout/", panel_fragment, {"panel": "rollout"}, name="panel_rollout"),
    path(
        "components/<int:pk>/panels/releases/",
        panel_fragment,
        {"panel": "releases"},
        name="panel_releases",
    ),
]
