from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "oncall"

    def ready(self):
        from . import panels  # noqa: F401  (registers the on-call and incidents cards)
