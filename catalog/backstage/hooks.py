"""What other apps do after a catalog import, without the catalog importing them.

The catalog is the ground floor: it imports no other app. An app that wants to act on imported
entities (apidocs stores API versions of changed definitions) registers a hook here from its
`AppConfig.ready()`. Hooks run after the import transaction has committed, in registration order,
and report problems as `report.warnings`; a hook never undoes the catalog import.
"""

from collections.abc import Callable

AfterImport = Callable[..., None]  # hook(plan, report, *, actor, actor_label)

_after_import: list[AfterImport] = []


def after_import_register(hook: AfterImport) -> None:
    if hook not in _after_import:
        _after_import.append(hook)


def after_import_run(plan, report, *, actor=None, actor_label: str = "") -> None:
    for hook in _after_import:
        hook(plan, report, actor=actor, actor_label=actor_label)
