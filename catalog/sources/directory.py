"""Descriptor files in a directory of the server (a checked-out descriptor repository, a mounted
volume), read as `manage.py import_catalog DIR` reads them: Locations are followed."""

from pathlib import Path

from integrations.errors import IntegrationError

from .base import Fetched, Progress, SourceKind, register


@register
class DirectorySource(SourceKind):
    name = "directory"
    label = "Descriptor files in a directory of the server"
    required_config = ("path",)

    def fetch(self, progress: Progress) -> Fetched:
        root = Path(self.config["path"])
        if not root.is_dir():
            raise IntegrationError(
                f"{root} is not a directory on this server: check the source's path",
                transient=False,
                system="directory",
            )
        return Fetched(paths=[root])
