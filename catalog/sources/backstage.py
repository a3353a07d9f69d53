"""Mirror a running Backstage's catalog (its REST API, cursor pagination, optional token)."""

import json
import re

from django.conf import settings

from integrations.backstage import BackstageRestCatalog
from portal.environment import env

from ..backstage import Source
from .base import Fetched, Progress, SourceKind, register


@register
class BackstageMirror(SourceKind):
    name = "backstage"
    label = "Backstage catalog (mirror over its REST API)"
    required_config = ("url",)
    # The token is never stored in the database: the source names the environment variable
    # (or NAME_FILE, a mounted secret) that holds it, and only BACKSTAGE_* names are read.
    optional_config = ("token_env",)

    @classmethod
    def config_problems(cls, config) -> list[str]:
        if isinstance(config, dict) and "token" in config:
            return [
                "Tokens are not stored in the database: put it in an environment variable "
                '(or a file named by NAME_FILE) and give its name as "token_env", e.g. '
                '"BACKSTAGE_TOKEN".'
            ]
        problems = super().config_problems(config)
        name = config.get("token_env") if isinstance(config, dict) else None
        if name and not re.fullmatch(r"BACKSTAGE_[A-Z0-9_]+", str(name)):
            problems.append('"token_env" must name a BACKSTAGE_* environment variable.')
        return problems

    def client(self) -> BackstageRestCatalog:
        name = self.config.get("token_env", "")
        return BackstageRestCatalog(
            base_url=self.config["url"],
            token=(env(name) or "") if name else "",
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
