from django.urls import path

from portal.panels import panel_fragment

app_name = "logs"

urlpatterns = [
    path(
        "components/<int:pk>/panels/logs/",
        panel_fragment,
        {"panel": "logs"},
        name="panel_service_logs",
    ),
    path(
        "releases/<int:pk>/panels/logs/",
        panel_fragment,
        {"panel": "release-logs"},
        name="panel_release_logs",
    ),
]
