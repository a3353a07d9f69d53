from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"

    def ready(self):
        from deployments.releases.signals import release_paused
        from notifications.slack import slack_renderer_register

        from . import panels  # noqa: F401  (registers approvals' page panels)
        from .receivers import release_paused_send_held
        from .slack import approval_slack_message

        release_paused.connect(release_paused_send_held, dispatch_uid="approvals-held")
        slack_renderer_register("approval", approval_slack_message)
