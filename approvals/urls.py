from django.urls import path

from portal.panels import panel_fragment

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.approval_inbox, name="inbox"),
    path("<int:pk>/", views.approval_detail, name="approval_detail"),
    path("<int:pk>/decide/", views.approval_decide, name="approval_decide"),
    path("<int:pk>/break-glass/", views.approval_break_glass, name="approval_break_glass"),
    path("releases/<int:pk>/promote/", views.release_promote, name="release_promote"),
    # Panel fragments (portal/panels.py; the panels live in approvals/panels.py).
    path("<int:pk>/panels/changes/", panel_fragment, {"panel": "changes"}, name="panel_changes"),
    path(
        "components/<int:pk>/panels/pending/",
        panel_fragment,
        {"panel": "approvals"},
        name="panel_pending",
    ),
]
