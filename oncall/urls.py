from django.urls import path

from portal.panels import panel_fragment

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
]
