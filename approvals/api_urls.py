from django.urls import path

from . import api
from .slack_interactions import slack_interaction

app_name = "approvals_api"

urlpatterns = [
    path("approvals/", api.approval_create, name="approval_create"),
    path("approvals/<str:id>", api.approval_get, name="approval_get"),
    path("openapi.yaml", api.openapi_document, name="openapi"),
    # Slack's interactivity request URL (the Approve / Abort buttons of the team's message)
    path("slack/interactions/", slack_interaction, name="slack_interactions"),
]
