from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"

    def ready(self):
        from deployments.trains.parts import train_release_paused_register

        from . import panels  # noqa: F401  (registers approvals' page panels)
        from .trains import train_pause_decide

        train_release_paused_register(train_pause_decide)
