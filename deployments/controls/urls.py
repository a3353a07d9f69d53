"""Live deployments, knob changes and runtime tuning (mounted by deployments/urls.py)."""

from django.urls import path

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
    path(
        "controls/<int:component_id>/<slug:env>/scale/",
        views.control_scale,
        name="control_scale",
    ),
    path(
        "controls/<int:component_id>/<slug:env>/hpa/",
        views.control_hpa,
        name="control_hpa",
    ),
    path(
        "controls/<int:component_id>/<slug:env>/restart/",
        views.control_restart,
        name="control_restart",
    ),
    path("tuning/<int:component_id>/", tuning_views.tuning_page, name="tuning_page"),
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
]
