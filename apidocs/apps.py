from django.apps import AppConfig


class ApidocsConfig(AppConfig):
    name = "apidocs"

    def ready(self):
        from . import panels  # noqa: F401  (registers the API registry's page panels)
