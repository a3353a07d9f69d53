"""Bulk writes to the API registry, for machine callers that store many versions at once.

The catalog import stores thousands of OpenAPI versions in one run; `api_version_create` would
cost ~8 queries and two audit events per version. OpenAPI documents are neither compiled nor
compared (that is protobuf's), so the same rows can be written with a handful of queries and
one audit event. Protobuf sets keep going through `api_version_create` one by one.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import OuterRef, Subquery

from catalog.models import Component
from portal.audit import audit_record
from portal.bulk import copy_insert
from portal.errors import ValidationFailed

from .models import ApiDefinition, ApiVersion
from .services import _clean_files


@dataclass(frozen=True)
class OpenApiDocument:
    """One API entity's OpenAPI document: the component (an `API` entity) and its files."""

    component_id: int
    name: str  # the definition's name (the entity's name)
    files: dict[str, str]


def api_versions_bulk_create(
    *,
    documents: list[OpenApiDocument],
    actor_label: str,
    actor=None,
    comment: str = "",
    source: str = "catalog",
) -> list[ApiVersion]:
    """Store a version of each OpenAPI document whose files differ from its latest version.

    Definitions that do not exist yet are created. Audited as one `apidocs.versions_import`
    event naming every definition created and version stored (as the catalog import is one
    `catalog.import` event), in the same transaction as the rows. For machine callers only
    (`actor_label`): like them, nothing is permission-checked.
    """
    if not actor_label or actor is not None:
        # A person publishes through api_version_create, which checks their rule.
        raise ValidationFailed("Bulk API versions are for machine callers (actor_label, no actor).")
    if not documents:
        return []
    ids = [d.component_id for d in documents]
    components = Component.objects.only("id", "name").in_bulk(ids)
    files = {d.component_id: _clean_files(d.files, ApiDefinition.Kind.OPENAPI) for d in documents}
    with transaction.atomic():
        definitions, created = _definitions(documents, components)
        latest = _latest(definitions.values())
        versions = []
        for document in documents:
            definition = definitions[document.component_id]
            number, stored = latest.get(definition.pk, (0, None))
            if stored == files[document.component_id]:
                continue
            versions.append(
                ApiVersion(
                    definition=definition,
                    number=number + 1,
                    author=actor if getattr(actor, "is_authenticated", False) else None,
                    author_label=actor_label or getattr(actor, "username", ""),
                    comment=comment[:500],
                    source=source,
                    files=files[document.component_id],
                )
            )
        copy_insert(ApiVersion, versions)
        if created or versions:
            audit_record(
                actor=actor,
                actor_label=actor_label,
                action="apidocs.versions_import",
                after={
                    "definitions_created": [str(d) for d in created],
                    "versions": [str(v) for v in versions],
                    "comment": comment,
                },
            )
    return versions


def _definitions(documents, components) -> tuple[dict[int, ApiDefinition], list]:
    """Each document's definition (locked; the missing ones created), and the created ones."""
    wanted = {d.component_id: d.name[:120] for d in documents}
    found = {
        (d.component_id, d.name): d
        for d in ApiDefinition.objects.select_for_update().filter(component_id__in=wanted)
    }
    missing = [
        ApiDefinition(component_id=pk, name=name, kind=ApiDefinition.Kind.OPENAPI)
        for pk, name in wanted.items()
        if (pk, name) not in found
    ]
    copy_insert(ApiDefinition, missing)
    found.update({(d.component_id, d.name): d for d in missing})
    definitions = {pk: found[pk, name] for pk, name in wanted.items()}
    for pk, definition in definitions.items():
        definition.component = components[pk]  # str(definition) without a query each
    return definitions, missing


def _latest(definitions) -> dict[int, tuple[int, dict]]:
    """definition id -> (number, files) of its latest version, in one query."""
    newest = ApiVersion.objects.filter(definition=OuterRef("definition")).order_by("-number")
    rows = ApiVersion.objects.filter(
        definition__in=[d.pk for d in definitions],
        number=Subquery(newest.values("number")[:1]),
    ).values_list("definition_id", "number", "files")
    return {definition: (number, files) for definition, number, files in rows}
