"""Live deployments, knob changes and runtime tuning (mounted by deployments/urls.py)."""

from django.urls import path

from portal.panels import panel_fragment

from . import tuning_views, views

urlpatterns = [
    path(
        "controls/<int:component_id>/<slug:env>/",
        views.control_live,
        name="control_live",
    ),
    path(
        "controls/<int:component_id>/<slug:env>/actions/",
        views.control_actions,
        name="control_actions",
    ),
    # One route for every knob (controls/knobs/); the three names below are the first knobs'
    # old URL names, kept so that existing links and reverse() calls go on working.
    path(
        "controls/<int:component_id>/<slug:env>/scale/",
        views.control_change,
        {"knob": "scale"},
        name="control_scale",
    ),
    path(
        "controls/<int:component_id>/<slug:env>/hpa/",
        views.control_change,
        {"knob": "hpa"},
        name="control_hpa",
    ),
    path(
        "controls/<int:component_id>/<slug:env>/restart/",
        views.control_change,
        {"knob": "restart"},
        name="control_restart",
    ),
    path(
        "controls/<int:component_id>/<slug:env>/<slug:knob>/",
        views.control_change,
        name="control_change",
    ),
    path("tuning/<int:component_id>/", tuning_views.tuning_page, name="tuning_page"),
    path(
        "tuning/<int:component_id>/<slug:env>/delivery/",
        tuning_views.tuning_delivery,
        name="tuning_delivery",
    ),
    path(
        "tuning/<int:component_id>/<slug:env>/reads/",
        tuning_views.tuning_reads_view,
        name="tuning_reads",
    ),
    path("tuning/key/<int:key_id>/<slug:env>/set/", tuning_views.tuning_set, name="tuning_set"),
    path(
        "tuning/key/<int:key_id>/<slug:env>/override/",
        tuning_views.tuning_override,
        name="tuning_override",
    ),
    path(
        "tuning/key/<int:key_id>/<slug:env>/revert/",
        tuning_views.tuning_revert,
        name="tuning_revert",
    ),
    path(
        "tuning/<int:component_id>/token/",
        tuning_views.runtime_token_issue,
        name="runtime_token_issue",
    ),
    path(
        "runtime/<str:component>/<slug:env>.json",
        tuning_views.runtime_json,
        name="runtime_json",
    ),
    # The service page's panel (portal/panels.py; deployments/controls/panels.py).
    path(
        "components/<int:pk>/panels/live/",
        panel_fragment,
        {"panel": "live-deployments"},
        name="panel_live_deployments",
    ),
]
