from django.apps import AppConfig


class LogsConfig(AppConfig):
    name = "logs"

    def ready(self):
        from . import panels  # noqa: F401  (registers the logs cards of the pages)
