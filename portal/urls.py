from django.contrib import admin
from django.urls import include, path

from . import views

portal_patterns = (
    [
        path("", views.dashboard, name="dashboard"),
        path("healthz", views.healthz, name="healthz"),
        path("search/", views.search, name="search"),
    ],
    "portal",
)

urlpatterns = [
    path("", include(portal_patterns)),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("catalog/", include("catalog.urls")),
    path("releases/", include("deployments.urls")),
    path("approvals/", include("approvals.urls")),
    path("apis/", include("apidocs.urls")),
]

handler404 = "portal.views.not_found"
handler500 = "portal.views.server_error"
