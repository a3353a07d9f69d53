from django.urls import path

from portal.panels import panel_fragment

from . import views

app_name = "deployments"

urlpatterns = [
    path("", views.release_list, name="release_list"),
    path("<int:pk>/", views.release_detail, name="release_detail"),
    path("start/<int:component_id>/", views.release_start, name="release_start"),
    path("<int:pk>/errors/", views.release_errors, name="release_errors"),
    path("<int:pk>/promote/", views.release_promote, name="release_promote"),
    path("<int:pk>/abort/", views.release_abort, name="release_abort"),
    path("<int:pk>/rollback/", views.release_rollback, name="release_rollback"),
    # Panel fragments (portal/panels.py; the panels live in deployments/panels.py).
    path("<int:pk>/panels/rollout/", panel_fragment, {"panel": "rollout"}, name="panel_rollout"),
    path(
        "components/<int:pk>/panels/releases/",
        panel_fragment,
        {"panel": "releases"},
        name="panel_releases",
    ),
    path(
        "components/<int:pk>/panels/live/",
        panel_fragment,
        {"panel": "live-deployments"},
        name="panel_live_deployments",
    ),
]

# -- Live deployments, knobs within guardrails, runtime tuning (issue 5) ----------------------
from . import control_views  # noqa: E402

urlpatterns += [
    path(
        "controls/<int:component_id>/<slug:env>/",
        control_views.control_live,
        name="control_live",
    ),
    path(
        "controls/<int:component_id>/<slug:env>/actions/",
        control_views.control_actions,
        name="control_actions",
    ),
    path(
        "controls/<int:component_id>/<slug:env>/scale/",
        control_views.control_scale,
        name="control_scale",
    ),
    path(
        "controls/<int:component_id>/<slug:env>/hpa/",
        control_views.control_hpa,
        name="control_hpa",
    ),
    path(
        "controls/<int:component_id>/<slug:env>/restart/",
        control_views.control_restart,
        name="control_restart",
    ),
    path("tuning/<int:component_id>/", control_views.tuning_page, name="tuning_page"),
    path("tuning/key/<int:key_id>/<slug:env>/set/", control_views.tuning_set, name="tuning_set"),
    path(
        "tuning/key/<int:key_id>/<slug:env>/override/",
        control_views.tuning_override,
        name="tuning_override",
    ),
    path(
        "tuning/key/<int:key_id>/<slug:env>/revert/",
        control_views.tuning_revert,
        name="tuning_revert",
    ),
    path(
        "tuning/<int:component_id>/token/",
        control_views.runtime_token_issue,
        name="runtime_token_issue",
    ),
    path(
        "runtime/<str:component>/<slug:env>.json",
        control_views.runtime_json,
        name="runtime_json",
    ),
]
