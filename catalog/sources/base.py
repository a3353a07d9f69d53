"""The source registry: one class per kind of catalog source (fetch; diff and apply by the import).

A kind says which config keys it needs, fetches descriptors (as texts the import reads, or
entities it turns into texts), and leaves diffing and writing to the catalog import, which
compares with what the catalog holds, writes only the differences and marks orphans.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from ..backstage import ImportReport, Source, catalog_import

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class Fetched:
    sources: list[Source] = field(default_factory=list)
    paths: list = field(default_factory=list)  # files or directories on this server
    # The source said nothing changed since the last run (all conditional requests answered
    # 304): the import is skipped and the previous figures stand.
    unchanged: bool = False
    cache: dict = field(default_factory=dict)  # kept on the CatalogSource row for the next run


class SourceKind:
    name = ""  # the CatalogSource.kind value, also in the machine identity
    label = ""
    required_config: tuple[str, ...] = ()
    optional_config: tuple[str, ...] = ()

    def __init__(self, source):
        self.source = source
        self.config = source.config or {}

    @classmethod
    def config_problems(cls, config) -> list[str]:
        """What is wrong with `config` for this kind, in words for the admin form."""
        if not isinstance(config, dict):
            return ["The configuration must be a JSON object."]
        problems = [f"{key!r} is required." for key in cls.required_config if not config.get(key)]
        known = set(cls.required_config) | set(cls.optional_config)
        problems += [
            f"{key!r} is not a setting of this kind." for key in config if key not in known
        ]
        return problems

    def fetch(self, progress: Progress) -> Fetched:
        raise NotImplementedError

    def diff(self, fetched: Fetched) -> ImportReport:
        """What applying `fetched` would change (a dry run, nothing written)."""
        return self._import(fetched, dry_run=True)

    def apply(self, fetched: Fetched) -> ImportReport:
        return self._import(fetched, dry_run=False)

    def _import(self, fetched: Fetched, *, dry_run: bool) -> ImportReport:
        return catalog_import(
            sources=fetched.sources,
            paths=fetched.paths,
            actor=None,
            actor_label=self.source.machine_identity,
            dry_run=dry_run,
            origin=self.source,
        )


SOURCE_KINDS: dict[str, type[SourceKind]] = {}


def register(cls: type[SourceKind]) -> type[SourceKind]:
    if not cls.name or not cls.label:
        raise ValueError(f"{cls.__name__} must say its name and label")
    if cls.name in SOURCE_KINDS:
        raise ValueError(f"source kind {cls.name!r} is registered twice")
    SOURCE_KINDS[cls.name] = cls
    return cls


def source_kind(source) -> SourceKind:
    try:
        return SOURCE_KINDS[source.kind](source)
    except KeyError:
        raise ValueError(f"unknown source kind {source.kind!r}") from None
