"""After a catalog import: store API versions of the API entities whose definition changed.

Registered with the catalog's after-import hooks (`catalog.backstage.hooks`) in
`ApidocsConfig.ready()`, so the catalog never imports apidocs.

Runs after the import transaction has committed (the caller invokes it once the atomic block is
done), one API at a time: an API whose definition does not compile, or that breaks its latest
version, gets a warning in the ImportReport and leaves the catalog import in place.
"""

from catalog.backstage.mapping import EntityFields
from catalog.backstage.reader import Problem
from catalog.backstage.refs import key_str
from catalog.models import Component
from portal.errors import PermissionDenied, PortalError

from .models import ApiVersion
from .services import BreakingChangeRejected, CompileFailed, api_version_from_backstage

API_SPEC_TYPES = ("grpc", "openapi")


def api_candidates(plan) -> list[tuple[EntityFields, int]]:
    """(entity, component id) of imported grpc/openapi APIs worth looking at.

    Created APIs, APIs whose definition text changed, and APIs that have no stored version yet
    (a catalog imported before this step existed). Unchanged ones cost nothing but one query.
    """
    ids = plan.key_to_id[Component]
    apis = [
        (entity, ids[entity.key])
        for entity in plan.by_model[Component]
        if entity.kind == "api"
        and (entity.row.get("spec_type") or "").lower() in API_SPEC_TYPES
        and (entity.row.get("definition") or "").strip()
    ]
    if not apis:
        return []
    with_versions = set(
        ApiVersion.objects.filter(
            definition__component_id__in=[pk for _, pk in apis], source="catalog"
        ).values_list("definition__component_id", flat=True)
    )
    chosen = []
    for entity, pk in apis:
        before = plan.existing.get(entity.key)
        changed = before is None or before.get("definition") != entity.row.get("definition")
        if changed or pk not in with_versions:
            chosen.append((entity, pk))
    return chosen


def api_versions_store(plan, report, *, actor=None, actor_label: str = "") -> None:
    """Store a version for each candidate API; problems become `report.warnings`.

    A step of the catalog import, which checked its own permission (catalog.import_backstage):
    the versions are stored as the import, with the person who ran it in the label."""
    label = actor_label or "catalog-import"
    if actor is not None:
        label = f"catalog-import:{actor.get_username()}"
    for entity, pk in api_candidates(plan):
        component = Component.objects.get(pk=pk)
        raw = entity.raw
        line = raw.line_of("spec", "definition")
        inline = isinstance((raw.data.get("spec") or {}).get("definition"), str)
        ref = key_str(entity.key)
        try:
            version = api_version_from_backstage(
                api_component=component, actor=None, actor_label=label
            )
        except CompileFailed as error:
            for problem in error.errors:
                # An inline block scalar starts on the line after `definition:`.
                at = line + problem.line if inline and problem.line else line
                where = f"line {problem.line}" if problem.line else "the definition"
                report.warnings.append(
                    Problem(
                        raw.file,
                        at,
                        f"{ref}: definition does not compile ({where}: {problem.message}); "
                        "no API version stored",
                    )
                )
            continue
        except BreakingChangeRejected as error:
            rules = ", ".join(sorted({f.rule for f in error.findings}))
            report.warnings.append(
                Problem(
                    raw.file,
                    line,
                    f"{ref}: the new definition has {len(error.findings)} breaking change(s) "
                    f"({rules}); no API version stored. Publish it from the API page with a "
                    "reason to accept them.",
                )
            )
            continue
        except (PermissionDenied, PortalError) as error:
            report.warnings.append(Problem(raw.file, line, f"{ref}: {error.message}"))
            continue
        if version is not None:
            report.api_versions.append(str(version))
