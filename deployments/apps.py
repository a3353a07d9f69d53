from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"

    def ready(self):
        from .analysis import panels as analysis_panels  # noqa: F401
        from .controls import panels as controls_panels  # noqa: F401  (registers page panels)
        from .dora import panels as dora_panels  # noqa: F401
        from .releases import panels as releases_panels  # noqa: F401
