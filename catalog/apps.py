from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self):
        from . import panels  # noqa: F401  (registers the catalog's page panels)
