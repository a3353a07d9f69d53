"""Per kind: the Switchyard row an entity describes (see docs/catalog-import.md for the mapping)."""

from .mapping import (
    COMPONENT_TYPE_TO_KIND,
    DEPENDENCY_KINDS_ANNOTATION,
    SWITCHYARD_ANNOTATIONS,
    TIER_ANNOTATION,
    EntityFields,
    FieldReader,
    extra_fields,
    parse_dependency_kinds,
)
from .refs import key_str

PROFILE_FIELDS = ("displayName", "email", "picture")
ENTITY_KIND_LABEL = {"component": "Component", "api": "API", "resource": "Resource"}


def build(entity: EntityFields, reader: FieldReader) -> None:
    {
        "group": _group,
        "user": _user,
        "domain": _domain,
        "system": _system,
        "component": _component,
        "api": _component,
        "resource": _component,
    }[entity.kind](entity, reader)


def _profile(entity: EntityFields, reader: FieldReader) -> None:
    if "profile" in entity.spec and not isinstance(entity.spec["profile"], dict):
        reader.error(entity.raw.line_of("spec", "profile"), "spec.profile must be a mapping")


def _owner(entity: EntityFields, reader: FieldReader) -> None:
    owner = reader.ref("owner")
    entity.refs["owner"] = owner if owner and owner[0] == "group" else None
    entity.refs["owner_person"] = owner if owner and owner[0] == "user" else None


def _described(entity: EntityFields, reader: FieldReader) -> dict:
    return {
        "name": entity.name,
        "metadata_namespace": entity.namespace,
        "title": reader.text("metadata", "title", max_length=200) or "",
        "description": reader.text("metadata", "description") or "",
        "tags": reader.string_list("metadata", "tags") or [],
        "links": reader.links() or [],
    }


def _group(entity: EntityFields, reader: FieldReader) -> None:
    _profile(entity, reader)
    entity.row = {
        "name": entity.name,
        "metadata_namespace": entity.namespace,
        "title": reader.text("spec", "profile", "displayName", max_length=200) or "",
        "description": reader.text("metadata", "description") or "",
        "team_type": reader.text("spec", "type", max_length=60) or "team",
        "email": reader.text("spec", "profile", "email", max_length=254) or "",
        "picture": reader.text("spec", "profile", "picture", max_length=200) or "",
        "extra": extra_fields(
            entity,
            ("description",),
            ("type", "profile", "parent", "children"),
            PROFILE_FIELDS,
        ),
    }
    if "parent" in entity.spec:
        entity.refs["parent"] = reader.ref("parent")
        entity.parent_line = entity.raw.line_of("spec", "parent")
    entity.children = reader.refs("children")
    # spec.members is kept as written (export gives it back) and also adds memberships.
    entity.members = reader.refs("members")


def _user(entity: EntityFields, reader: FieldReader) -> None:
    _profile(entity, reader)
    entity.row = {
        "name": entity.name,
        "metadata_namespace": entity.namespace,
        "display_name": reader.text("spec", "profile", "displayName", max_length=200) or "",
        "email": reader.text("spec", "profile", "email", max_length=254) or "",
        "picture": reader.text("spec", "profile", "picture", max_length=200) or "",
        "extra": extra_fields(entity, (), ("profile", "memberOf"), PROFILE_FIELDS),
    }
    entity.member_of = {key for key, _ in reader.refs("memberOf")}


def _domain(entity: EntityFields, reader: FieldReader) -> None:
    entity.row = _described(entity, reader)
    entity.row["extra"] = extra_fields(
        entity, ("title", "description", "tags", "links"), ("owner", "subdomainOf")
    )
    _owner(entity, reader)
    entity.refs["parent"] = reader.ref("subdomainOf")
    entity.parent_line = entity.raw.line_of("spec", "subdomainOf")


def _system(entity: EntityFields, reader: FieldReader) -> None:
    entity.row = _described(entity, reader)
    entity.row["extra"] = extra_fields(
        entity, ("title", "description", "tags", "links"), ("owner", "domain")
    )
    _owner(entity, reader)
    entity.refs["namespace"] = reader.ref("domain")


def _annotations(entity: EntityFields, reader: FieldReader) -> dict:
    value = entity.metadata.get("annotations")
    if value is None:
        return {}
    if not isinstance(value, dict):
        reader.error(
            entity.raw.line_of("metadata", "annotations"), "metadata.annotations must be a mapping"
        )
        return {}
    return value


def _tier(entity: EntityFields, reader: FieldReader, annotations: dict) -> int | None:
    value = annotations.get(TIER_ANNOTATION)
    if value is None:
        return None
    if str(value).strip() in ("1", "2", "3", "4"):
        return int(str(value).strip())
    line = entity.raw.line_of("metadata", "annotations", TIER_ANNOTATION)
    reader.error(line, f"annotation {TIER_ANNOTATION} must be 1, 2, 3 or 4, not {value!r}")
    return None


def _repository(annotations: dict) -> str | None:
    slug = annotations.get("github.com/project-slug")
    if isinstance(slug, str) and slug.strip():
        return f"https://github.com/{slug.strip()}"[:400]
    location = annotations.get("backstage.io/source-location")
    if isinstance(location, str) and location.startswith("url:"):
        return location[4:][:400]
    return None


def _component(entity: EntityFields, reader: FieldReader) -> None:
    kind = entity.kind
    annotations = _annotations(entity, reader)
    spec_type = reader.text("spec", "type", max_length=60) or ""
    row = _described(entity, reader)
    row.update(
        entity_kind=ENTITY_KIND_LABEL[kind],
        kind={"api": "api", "resource": "resource"}.get(kind)
        or COMPONENT_TYPE_TO_KIND.get(spec_type.lower(), "other"),
        spec_type=spec_type,
        annotations={k: v for k, v in annotations.items() if k not in SWITCHYARD_ANNOTATIONS},
    )
    lifecycle = reader.text("spec", "lifecycle", max_length=40)
    if lifecycle is not None:
        row["lifecycle"] = lifecycle
    tier = _tier(entity, reader, annotations)
    if tier is not None:
        row["tier"] = tier
    repository = _repository(annotations)
    if repository is not None:
        row["repository"] = repository
    spec_known = ["type", "lifecycle", "owner", "system"]
    if kind == "api":
        definition, remote = reader.definition()
        row["definition"] = definition or ""
        if not remote:
            spec_known.append("definition")
    if kind == "component":
        spec_known += ["subcomponentOf", "providesApis", "consumesApis"]
        entity.refs["parent"] = reader.ref("subcomponentOf")
        entity.parent_line = entity.raw.line_of("spec", "subcomponentOf")
        entity.apis = {(key, "provides") for key, _ in reader.refs("providesApis")} | {
            (key, "consumes") for key, _ in reader.refs("consumesApis")
        }
    if kind in ("component", "resource"):
        spec_known += ["dependsOn", "dependencyOf"]
        _dependencies(entity, reader, annotations)
        entity.dependency_of = [k for k, _ in reader.refs("dependencyOf") if k != entity.key]
    row["extra"] = extra_fields(
        entity, ("title", "description", "tags", "links", "annotations"), spec_known
    )
    entity.row = row
    _owner(entity, reader)
    entity.refs["system"] = reader.ref("system")


def _dependencies(entity: EntityFields, reader: FieldReader, annotations: dict) -> None:
    """spec.dependsOn, typed by the switchyard.dev/dependency-kinds annotation."""
    kinds = parse_dependency_kinds(reader, annotations)
    targets = reader.refs("dependsOn")
    for key, line in targets:
        if key == entity.key:
            reader.error(line, "spec.dependsOn: an entity cannot depend on itself")
            continue
        default = "data" if key[0] == "resource" else "sync"
        for kind, topic in (kinds or {}).get(key) or [(default, "")]:
            entity.deps.add((key, kind, topic))
    listed = {key for key, _ in targets}
    pending = [u for u in entity.unresolved if u[0] == "dependsOn"]
    for spec_field, key, line, _ in pending:
        entity.unresolved.remove((spec_field, key, line, ""))
        default = "data" if key[0] == "resource" else "sync"
        for kind, topic in (kinds or {}).get(key) or [(default, "")]:
            entity.unresolved.append((spec_field, key, line, f"{kind}@{topic}"))
        listed.add(key)
    for key in kinds or {}:
        if key not in listed:
            reader.error(
                entity.raw.line_of("metadata", "annotations", DEPENDENCY_KINDS_ANNOTATION),
                f"annotation {DEPENDENCY_KINDS_ANNOTATION} names {key_str(key)}, "
                "which is not in spec.dependsOn",
            )
