from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"

    def ready(self):
        from . import panels  # noqa: F401  (registers approvals' page panels)
