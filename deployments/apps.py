from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"

    def ready(self):
        from . import panels  # noqa: F401  (registers deployments' page panels)
