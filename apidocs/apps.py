from django.apps import AppConfig


class ApidocsConfig(AppConfig):
    name = "apidocs"

    def ready(self):
        from catalog.backstage.hooks import after_import_register

        from .catalog_import import api_versions_store

        after_import_register(api_versions_store)
