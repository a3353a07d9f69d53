from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"

    def ready(self):
        from notifications.slack import slack_renderer_register

        from . import panels  # noqa: F401  (registers approvals' page panels)
        from .slack import approval_slack_message

        slack_renderer_register("approval", approval_slack_message)
