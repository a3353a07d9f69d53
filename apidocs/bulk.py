"""Bulk writes to the API registry, for machine callers that store many versions at once.

The catalog import stores thousands of OpenAPI versions in one run; `api_version_create` would
cost ~8 queries and one audit lock per version. OpenAPI documents are neither compiled nor
compared (that is protobuf's), so the same rows and the same audit events can be written with a
handful of queries. Protobuf sets keep going through `api_version_create` one by one.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import OuterRef, Subquery

from catalog.models import Component
from portal.audit import AuditEntry, audit_record_many
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

    Definitions that do not exist yet are created. Audited exactly as one call of
    `api_definition_get_or_create` + `api_version_create` per document would be
    (`apidocs.definition_create`, `apidocs.version_create`), in the same transaction as the
    rows. For machine callers only (`actor_label`): like them, nothing is permission-checked.
    """
    if not actor_label:
        raise ValidationFailed("Bulk API versions are for machine callers (actor_label).")
    if not documents:
        return []
    ids = [d.component_id for d in documents]
    components = Component.objects.only("id", "name").in_bulk(ids)
    files = {d.component_id: _clean_files(d.files, ApiDefinition.Kind.OPENAPI) for d in documents}
    with transaction.atomic():
        definitions, entries = _definitions(documents, components)
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
        entries += [
            AuditEntry(
                action="apidocs.version_create",
                target=version,
                component=version.definition.component,
                after={
                    "number": version.number,
                    "files": sorted(version.files),
                    "comment": comment,
                    "breaking": [],
                },
            )
            for version in versions
        ]
        audit_record_many(actor=actor, actor_label=actor_label, entries=entries)
    return versions


def _definitions(documents, components) -> tuple[dict[int, ApiDefinition], list[AuditEntry]]:
    """Each document's definition (locked; the missing ones created) and their audit entries."""
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
    entries = [
        AuditEntry(
            action="apidocs.definition_create",
            target=d,
            component=d.component,
            after={"name": d.name, "kind": d.kind},
        )
        for d in missing
    ]
    return definitions, entries


def _latest(definitions) -> dict[int, tuple[int, dict]]:
    """definition id -> (number, files) of its latest version, in one query."""
    newest = ApiVersion.objects.filter(definition=OuterRef("definition")).order_by("-number")
    rows = ApiVersion.objects.filter(
        definition__in=[d.pk for d in definitions],
        number=Subquery(newest.values("number")[:1]),
    ).values_list("definition_id", "number", "files")
    return {definition: (number, files) for definition, number, files in rows}
