"""Write the catalog back out as Backstage descriptors: a root all.yaml Location, a file per kind.

import(export(catalog)) gives the same catalog: every modelled field is written in its Backstage
place, everything kept in `extra` goes back where it came from, dependency kinds other than the
default go into the `switchyard.dev/dependency-kinds` annotation, tier into `switchyard.dev/tier`.
"""

from collections import defaultdict
from pathlib import Path

import yaml

from ..models import ApiRelation, Component, Dependency, Namespace, Person, System, Team
from .mapping import DEFAULT_API_VERSION, DEPENDENCY_KINDS_ANNOTATION, TIER_ANNOTATION
from .refs import DEFAULT_NAMESPACE, format_ref

try:
    from yaml import CSafeDumper as _Dumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _Dumper


class _Writer(_Dumper):
    pass


def _str(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Writer.add_representer(str, _str)

FILES = (
    ("groups.yaml", "Group"),
    ("users.yaml", "User"),
    ("domains.yaml", "Domain"),
    ("systems.yaml", "System"),
    ("components.yaml", "Component"),
    ("apis.yaml", "API"),
    ("resources.yaml", "Resource"),
)


def catalog_export(*, directory) -> dict[str, int]:
    """Write every catalog entity under `directory`; returns the number written per kind."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    docs = _documents()
    counts = {}
    targets = []
    for filename, kind in FILES:
        entities = docs.get(kind, [])
        counts[kind] = len(entities)
        if not entities:
            continue
        targets.append(f"./{filename}")
        with open(directory / filename, "w", encoding="utf-8") as out:
            yaml.dump_all(
                entities, out, Dumper=_Writer, sort_keys=False, allow_unicode=True, width=100
            )
    location = {
        "apiVersion": DEFAULT_API_VERSION,
        "kind": "Location",
        "metadata": {"name": "switchyard-export", "description": "Exported from Switchyard"},
        "spec": {"targets": targets},
    }
    with open(directory / "all.yaml", "w", encoding="utf-8") as out:
        yaml.dump(location, out, Dumper=_Writer, sort_keys=False)
    return counts


def _base(kind: str, obj, metadata: dict) -> dict:
    extra = dict(obj.extra or {})
    api_version = extra.pop("apiVersion", DEFAULT_API_VERSION)
    head = {"name": obj.name}
    if obj.metadata_namespace != DEFAULT_NAMESPACE:
        head["namespace"] = obj.metadata_namespace
    metadata = {**head, **{k: v for k, v in metadata.items() if v not in ("", None, [], {})}}
    metadata.update(extra.pop("metadata", {}))
    spec = extra.pop("spec", {})
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec, **extra}


def _with_spec(doc: dict, first: dict) -> dict:
    """Modelled spec fields first, then the kept ones (profile parts merge)."""
    kept = doc["spec"]
    if "profile" in first and isinstance(kept.get("profile"), dict):
        first["profile"] = {**first["profile"], **kept.pop("profile")}
    doc["spec"] = {**{k: v for k, v in first.items() if v not in (None, {})}, **kept}
    return doc


def _ref(target, kind, spec_field, own):
    if target is None:
        return None
    return format_ref(
        kind,
        target.metadata_namespace,
        target.name,
        field=spec_field,
        own_namespace=own.metadata_namespace,
    )


def _owner(obj):
    if obj.owner_id:
        return _ref(obj.owner, "group", "owner", obj)
    return _ref(obj.owner_person, "user", "owner", obj)


def _profile(title, email, picture) -> dict:
    return {k: v for k, v in (("displayName", title), ("email", email), ("picture", picture)) if v}


def _documents() -> dict[str, list[dict]]:
    docs: dict[str, list[dict]] = defaultdict(list)
    teams = list(Team.objects.select_related("parent").order_by("metadata_namespace", "name"))
    children = defaultdict(list)
    for team in teams:
        if team.parent_id:
            children[team.parent_id].append(team)
    for team in teams:
        doc = _base("Group", team, {"description": team.description})
        docs["Group"].append(
            _with_spec(
                doc,
                {
                    "type": team.team_type,
                    "profile": _profile(team.title, team.email, team.picture),
                    "parent": _ref(team.parent, "group", "parent", team),
                    "children": [_ref(c, "group", "children", team) for c in children[team.pk]],
                },
            )
        )
    for person in Person.objects.prefetch_related("teams").order_by("metadata_namespace", "name"):
        doc = _base("User", person, {})
        member_of = sorted(_ref(t, "group", "memberOf", person) for t in person.teams.all())
        docs["User"].append(
            _with_spec(
                doc,
                {
                    "profile": _profile(person.display_name, person.email, person.picture),
                    "memberOf": member_of,
                },
            )
        )
    for ns in Namespace.objects.select_related("owner", "owner_person", "parent").order_by(
        "metadata_namespace", "name"
    ):
        doc = _base("Domain", ns, _described(ns))
        first = {"owner": _owner(ns), "subdomainOf": _ref(ns.parent, "domain", "subdomainOf", ns)}
        docs["Domain"].append(_with_spec(doc, first))
    for system in System.objects.select_related("owner", "owner_person", "namespace").order_by(
        "metadata_namespace", "name"
    ):
        doc = _base("System", system, _described(system))
        first = {
            "owner": _owner(system),
            "domain": _ref(system.namespace, "domain", "domain", system),
        }
        docs["System"].append(_with_spec(doc, first))
    _component_documents(docs)
    return docs


def _described(obj) -> dict:
    return {
        "title": obj.title,
        "description": obj.description,
        "tags": obj.tags,
        "links": obj.links,
    }


def _component_documents(docs) -> None:
    components = Component.objects.select_related(
        "owner", "owner_person", "system", "parent"
    ).order_by("entity_kind", "metadata_namespace", "name")
    by_id = {}
    deps = defaultdict(list)
    apis = defaultdict(list)
    for dep in Dependency.objects.values_list("source_id", "target_id", "kind", "topic"):
        deps[dep[0]].append(dep[1:])
    for rel in ApiRelation.objects.values_list("component_id", "api_id", "relation"):
        apis[rel[0]].append(rel[1:])
    components = list(components)
    by_id = {c.pk: c for c in components}
    for c in components:
        annotations = dict(c.annotations or {})
        if c.tier != Component.Tier.TIER_3:
            annotations[TIER_ANNOTATION] = str(c.tier)
        if c.repository and not (
            "github.com/project-slug" in annotations
            or "backstage.io/source-location" in annotations
        ):
            annotations["backstage.io/source-location"] = f"url:{c.repository}"
        depends_on, typed = _depends_on(c, deps[c.pk], by_id)
        if typed:
            annotations[DEPENDENCY_KINDS_ANNOTATION] = ", ".join(typed)
        doc = _base(c.entity_kind, c, {**_described(c), "annotations": annotations})
        first = {"type": c.spec_type or c.kind}
        if c.entity_kind != Component.EntityKind.RESOURCE or c.lifecycle != "production":
            first["lifecycle"] = c.lifecycle
        first |= {"owner": _owner(c), "system": _ref(c.system, "system", "system", c)}
        if c.entity_kind == Component.EntityKind.COMPONENT:
            first["subcomponentOf"] = _ref(c.parent, "component", "subcomponentOf", c)
            for relation, spec_field in (
                ("provides", "providesApis"),
                ("consumes", "consumesApis"),
            ):
                refs = sorted(
                    _ref(by_id[a], by_id[a].entity_kind.lower(), spec_field, c)
                    for a, rel in apis[c.pk]
                    if rel == relation
                )
                first[spec_field] = refs or None
        if depends_on:
            first["dependsOn"] = depends_on
        if c.entity_kind == Component.EntityKind.API and c.definition:
            first["definition"] = c.definition
        docs[c.entity_kind].append(_with_spec(doc, first))


def _depends_on(component, edges, by_id) -> tuple[list[str], list[str]]:
    """spec.dependsOn refs and the annotation entries for edges whose kind is not the default."""
    refs, typed = set(), []
    targets = defaultdict(list)
    for target_id, kind, topic in edges:
        target = by_id[target_id]
        kind_label = target.entity_kind.lower()
        ref = (
            f"{kind_label}:{target.name}"
            if target.metadata_namespace == component.metadata_namespace
            else f"{kind_label}:{target.metadata_namespace}/{target.name}"
        )
        refs.add(ref)
        targets[ref].append((kind, topic))
    for ref in sorted(targets):
        default = "data" if ref.startswith("resource:") else "sync"
        kinds = sorted(targets[ref])
        if kinds == [(default, "")]:
            continue
        typed += [f"{ref}={kind}{'@' + topic if topic else ''}" for kind, topic in kinds]
    return sorted(refs), typed
