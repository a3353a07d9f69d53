"""Mirror a running Backstage's catalog (its REST API, cursor pagination, optional token)."""

import json

from django.conf import settings

from integrations.backstage import BackstageRestCatalog

from ..backstage import Source
from .base import Fetched, Progress, SourceKind, register


@register
class BackstageMirror(SourceKind):
    name = "backstage"
    label = "Backstage catalog (mirror over its REST API)"
    required_config = ("url",)
    optional_config = ("token",)

    def client(self) -> BackstageRestCatalog:
        return BackstageRestCatalog(
            base_url=self.config["url"],
            token=self.config.get("token", ""),
            timeout=settings.INTEGRATION_TIMEOUT_SECONDS,
        )

    def fetch(self, progress: Progress) -> Fetched:
        """Every entity, each as one JSON document (JSON is YAML: the import reads it as is)."""
        base = self.config["url"].rstrip("/")
        sources = []
        for entity in self.client().entities(on_page=progress):
            metadata = entity.get("metadata") if isinstance(entity.get("metadata"), dict) else {}
            namespace = metadata.get("namespace", "default")
            ref = f"{entity.get('kind')}:{namespace}/{metadata.get('name')}"
            sources.append(
                Source(name=f"{base} {ref}", text=json.dumps(entity), follow_locations=False)
            )
        return Fetched(sources=sources)
