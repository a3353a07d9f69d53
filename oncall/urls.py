from django.urls import path

from portal.panels import panel_fragment

from . import views

app_name = "oncall"

urlpatterns = [
    path(
        "components/<int:pk>/panels/on-call/",
        panel_fragment,
        {"panel": "on-call"},
        name="panel_on_call",
    ),
    path(
        "components/<int:pk>/panels/incidents/",
        panel_fragment,
        {"panel": "incidents"},
        name="panel_incidents",
    ),
    path(
        "approvals/<int:pk>/panels/incident-gate/",
        panel_fragment,
        {"panel": "incident-gate"},
        name="panel_incident_gate",
    ),
    path(
        "approvals/<int:pk>/incident-gate/override/",
        views.incident_gate_override_view,
        name="incident_gate_override",
    ),
]
