"""The project's URLs plus the fragment of a panel that only tests register (test_panels.py)."""

from django.urls import path

from portal.panels import panel_fragment
from portal.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path(
        "test-panels/<int:pk>/export-only/",
        panel_fragment,
        {"panel": "export-only"},
        name="test_export_only_panel",
    ),
]
