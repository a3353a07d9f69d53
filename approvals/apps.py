from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"

    def ready(self):
        from deployments.releases.signals import release_paused

        from . import panels  # noqa: F401  (registers approvals' page panels)
        from .receivers import release_paused_send_held

        release_paused.connect(release_paused_send_held, dispatch_uid="approvals-held")
