from django.contrib import admin
from django.urls import include, path

from catalog import views_home

from . import views, views_access

portal_patterns = (
    [
        path("", views_home.dashboard, name="dashboard"),
        path("healthz", views.healthz, name="healthz"),
        path("search/", views_home.search, name="search"),
        path("audit/", views_access.audit_list, name="audit_list"),
        path("audit/export.jsonl", views_access.audit_export, name="audit_export"),
        path(
            "teams/<str:mns>/<str:name>/members/",
            views_access.team_members,
            name="team_members",
        ),
        path(
            "teams/<str:mns>/<str:name>/members/add/",
            views_access.team_member_add,
            name="team_member_add",
        ),
        path(
            "memberships/<int:pk>/remove/",
            views_access.team_member_remove,
            name="team_member_remove",
        ),
    ],
    "portal",
)

urlpatterns = [
    path("", include(portal_patterns)),
    # Pages link the icon; the admin and other clients ask for /favicon.ico by habit.
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("catalog/", include("catalog.urls")),
    path("releases/", include("deployments.urls")),
    path("approvals/", include("approvals.urls")),
    path("apis/", include("apidocs.urls")),
    path("logs/", include("logs.urls")),
    path("oncall/", include("oncall.urls")),
    path("notifications/", include("notifications.urls")),
    path("api/", include("approvals.api_urls")),
]

handler404 = "portal.views.not_found"
handler500 = "portal.views.server_error"
