from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"

    def ready(self):
        from deployments.releases.signals import release_paused
        from deployments.trains.parts import train_release_paused_register
        from notifications.slack import slack_renderer_register

        from . import panels  # noqa: F401  (registers approvals' page panels)
        from .receivers import release_paused_send_held
        from .slack import approval_slack_message
        from .trains import train_pause_decide

        release_paused.connect(release_paused_send_held, dispatch_uid="approvals-held")
        slack_renderer_register("approval", approval_slack_message)
        train_release_paused_register(train_pause_decide)
