from django.urls import path

from . import api

app_name = "approvals_api"

urlpatterns = [
    path("approvals/", api.approval_create, name="approval_create"),
    path("approvals/<str:id>", api.approval_get, name="approval_get"),
    path("openapi.yaml", api.openapi_document, name="openapi"),
]
