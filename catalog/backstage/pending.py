"""Unresolved relations: references to entities the catalog does not hold yet.

The tolerant import keeps each one as an `UnresolvedRelation` row. When an import (from any
source) brings the target, the row becomes the real relation: an owner, a system, a parent, a
dependency edge, an API relation or a team membership, exactly what importing both entities
together would have written, so re-importing either afterwards reports "unchanged".
"""

from django.db.models.functions import Lower

from ..models import ApiRelation, Component, Dependency, Namespace, Person, System, Team
from ..models import UnresolvedRelation as Row
from .refs import Key, key_str
from .schema import BATCH, MODEL_FOR_KIND, chunks


def parse_key(text: str) -> Key:
    kind, _, rest = text.partition(":")
    namespace, _, name = rest.partition("/")
    return (kind, namespace, name)


def _wanted(entity) -> set[tuple]:
    return {(f, key_str(t), detail) for f, t, _line, detail in entity.unresolved}


class PendingRelations:
    """The unresolved relations of the entities in one import run, compared and written as sets."""

    def __init__(self, entities: dict):
        self.entities = entities
        self.sources = {key_str(k): e for k, e in entities.items()}
        self.current: dict[str, dict[tuple, int]] = {}
        for pk, source, field, target, detail in Row.objects.values_list(
            "id", "source", "field", "target", "detail"
        ).iterator(chunk_size=5000):
            if source in self.sources:
                self.current.setdefault(source, {})[(field, target, detail)] = pk

    def changed(self, entity) -> bool:
        return set(self.current.get(key_str(entity.key), {})) != _wanted(entity)

    def write(self) -> None:
        delete, create = [], []
        for source, entity in self.sources.items():
            current, wanted = self.current.get(source, {}), _wanted(entity)
            delete += [pk for edge, pk in current.items() if edge not in wanted]
            lines = {(f, key_str(t), d): line for f, t, line, d in entity.unresolved}
            create += [
                Row(
                    source=source,
                    field=f,
                    target=t,
                    detail=d,
                    file=entity.raw.file[-500:],
                    line=lines[(f, t, d)],
                )
                for f, t, d in wanted - set(current)
            ]
        for chunk in chunks(delete):
            Row.objects.filter(pk__in=chunk).delete()
        Row.objects.bulk_create(create, batch_size=BATCH)

    def resolve_targets(self, keys: list[Key]) -> int:
        """Turn the relations that point at `keys` (just created) into real ones."""
        rows = []
        for chunk in chunks([key_str(k) for k in keys]):
            rows += list(Row.objects.filter(target__in=chunk))
        return relations_apply(rows)


def relations_resolve() -> int:
    """Resolve every unresolved relation whose target is in the catalog now (for entities that
    arrived some other way than an import, e.g. the admin). Returns how many were resolved."""
    return relations_apply(list(Row.objects.all()))


def _ids(keys: set[Key]) -> dict[Key, int]:
    """key -> row id for the keys that exist, a few queries per model."""
    found: dict[Key, int] = {}
    by_model: dict[type, set[Key]] = {}
    for key in keys:
        model = MODEL_FOR_KIND.get(key[0])
        if model is not None:
            by_model.setdefault(model, set()).add(key)
    for model, wanted in by_model.items():
        names = {k[2] for k in wanted}
        columns = ["id", "metadata_namespace", "name"]
        columns += ["entity_kind"] if model is Component else []
        for chunk in chunks(names):
            rows = model.objects.annotate(lname=Lower("name")).filter(lname__in=chunk)
            for row in rows.values(*columns):
                kind = row["entity_kind"].lower() if model is Component else key_kind_of(model)
                key = (kind, row["metadata_namespace"].lower(), row["name"].lower())
                if key in wanted:
                    found[key] = row["id"]
    return found


def key_kind_of(model) -> str:
    return {Team: "group", Person: "user", Namespace: "domain", System: "system"}[model]


def relations_apply(rows: list) -> int:
    """Apply the relations in `rows` whose source and target both exist; delete those rows."""
    if not rows:
        return 0
    ids = _ids({parse_key(r.source) for r in rows} | {parse_key(r.target) for r in rows})
    done = []
    for row in rows:
        source, target = ids.get(parse_key(row.source)), ids.get(parse_key(row.target))
        if source is None or target is None:
            continue
        if _apply(row, parse_key(row.source), source, parse_key(row.target), target):
            done.append(row.pk)
    for chunk in chunks(done):
        Row.objects.filter(pk__in=chunk).delete()
    return len(done)


def _apply(row, source_key: Key, source: int, target_key: Key, target: int) -> bool:
    field, model = row.field, MODEL_FOR_KIND[source_key[0]]
    if field == "owner":
        column = "owner_id" if target_key[0] == "group" else "owner_person_id"
        model.objects.filter(pk=source).update(**{column: target})
    elif field == "system":
        namespace = System.objects.filter(pk=target).values_list("namespace_id", flat=True).first()
        Component.objects.filter(pk=source).update(system_id=target, namespace_id=namespace)
    elif field == "domain":
        System.objects.filter(pk=source).update(namespace_id=target)
        Component.objects.filter(system_id=source).update(namespace_id=target)
    elif field in ("parent", "subdomainOf", "subcomponentOf"):
        return _set_parent(model, source, target)
    elif field == "children":
        if Team.objects.filter(pk=target, parent__isnull=False).exists():
            return True  # the child names its own parent, which wins (as in one import)
        return _set_parent(Team, target, source)
    elif field in ("members", "memberOf"):
        person, team = (target, source) if field == "members" else (source, target)
        Person.teams.through.objects.get_or_create(person_id=person, team_id=team)
    elif field == "dependsOn":
        kind, _, topic = row.detail.partition("@")
        Dependency.objects.get_or_create(
            source_id=source, target_id=target, kind=kind or "sync", defaults={"topic": topic}
        )
    elif field == "dependencyOf":
        kind = "data" if source_key[0] == "resource" else "sync"
        Dependency.objects.get_or_create(source_id=target, target_id=source, kind=kind)
    elif field in ("providesApis", "consumesApis"):
        relation = "provides" if field == "providesApis" else "consumes"
        ApiRelation.objects.get_or_create(component_id=source, api_id=target, relation=relation)
    return True


def _set_parent(model, child: int, parent: int) -> bool:
    """Set `child.parent`, unless that closes a cycle (then the relation stays unresolved)."""
    assert model in (Team, Namespace, Component)
    node, seen = parent, set()
    while node is not None and node not in seen:
        if node == child:
            return False
        seen.add(node)
        node = model.objects.filter(pk=node).values_list("parent_id", flat=True).first()
    model.objects.filter(pk=child).update(parent_id=parent)
    return True
