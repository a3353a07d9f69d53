from django.urls import path

from portal.panels import panel_fragment

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.approval_inbox, name="inbox"),
    path("<int:pk>/", views.approval_detail, name="approval_detail"),
    path("<int:pk>/decide/", views.approval_decide, name="approval_decide"),
    # Panel fragments (portal/panels.py; the panels live in approvals/panels.py).
    path("<int:pk>/panels/changes/", panel_fragment, {"panel": "changes"}, name="panel_changes"),
    path(
        "components/<int:pk>/panels/pending/",
        panel_fragment,
        {"panel": "approvals"},
        name="panel_pending",
    ),
]
