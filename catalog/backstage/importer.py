"""Import Backstage descriptors into the catalog: per entity (or all or nothing), set-based.

By default the import is tolerant, as Backstage is: an entity with an invalid field is skipped
(listed in `rejected` with file, line and reason), every valid one is stored, and a reference to
an entity that is neither in the run nor in the catalog is kept as an `UnresolvedRelation` that
the import bringing the target turns into the real relation. `strict=True` is the validation
mode for a descriptor repository's CI: any problem and nothing is written. Writes use
bulk_create / bulk_update and one query per table to read the current state, so 10,000
components cost a handful of queries, not 10,000.
"""

import gc

from django.db import DatabaseError, transaction
from django.utils import timezone

from portal.audit import AuditContext, audit_record
from portal.bulk import copy_rows
from portal.models import AuditEvent
from portal.permissions import permission_require

from ..models import Component, Dependency, Namespace, Person, System, Team
from ..selectors import catalog_version
from .builders import build
from .cycles import parent_cycles
from .digest import digest_record, digest_unchanged
from .edges import EdgeState
from .hooks import after_import_run
from .mapping import MODELLED_KINDS, EntityFields, FieldReader, identify, new_entity
from .origins import entity_changes, origins_record
from .pending import PendingRelations
from .reader import Problem, Skipped, Source, read_catalog
from .refs import Key, entity_key, key_str
from .report import ImportReport, unchanged_run
from .schema import (
    BATCH,
    FK_FIELDS,
    MODEL_FOR_KIND,
    MODEL_ORDER,
    SCALAR_FIELDS,
    SELF_FK,
    UPDATE_BATCH,
    chunks,
    key_kind,
)

# The descriptor field that names each model's parent (where a cycle is reported).
PARENT = {Team: "spec.parent", Namespace: "spec.subdomainOf", Component: "spec.subcomponentOf"}


class _DryRun(Exception):
    pass


def catalog_import(
    *,
    paths=(),
    sources: tuple[Source, ...] | list[Source] = (),
    actor=None,
    actor_label: str = "",
    dry_run: bool = False,
    context: AuditContext | None = None,
    strict: bool = False,
    origin=None,
) -> ImportReport:
    """Import descriptor files/directories (`paths`) and uploaded texts (`sources`).

    Tolerant by default: bad entities and files are `rejected`, the rest is stored, unknown
    references are kept as unresolved relations. `strict`: all or nothing, any problem is an
    error and nothing is written (the report lists every error found).
    Audited as `catalog.import` (done, or failed with the error count); a dry run writes nothing.
    `origin`: the CatalogSource whose sync this is; its entities not in this run are orphaned,
    and the one audit event (`catalog.source_sync`) holds every entity's before/after.
    """
    if actor is not None:  # a person: the rule decides (the admin page asks first, too)
        permission_require(
            actor=actor,
            perm="catalog.import_backstage",
            action="catalog.import",
            context=context,
            message="Only the platform team may import Backstage descriptors.",
        )
    # Tens of thousands of small dicts trip the cyclic collector again and again for nothing:
    # nothing built here is cyclic, so collection waits until the run is over.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _import(paths, sources, actor, actor_label, dry_run, context, strict, origin)
    finally:
        if gc_was_enabled:
            gc.enable()


def _import(paths, sources, actor, actor_label, dry_run, context, strict, origin) -> ImportReport:
    # Files only, in the tolerant mode, not a source's sync: those may skip an unchanged re-run.
    digestible = bool(paths) and not (sources or dry_run or strict or origin is not None)
    if digestible and (summary := digest_unchanged(paths)) is not None:
        return unchanged_run(summary, actor, actor_label, context)
    read = read_catalog(paths=paths, sources=sources)
    report = ImportReport(skipped=read.skipped, dry_run=dry_run, strict=strict)
    (report.errors if strict else report.rejected).extend(read.errors)
    report.errors += read.missing  # a path named on the command line: a usage error, always
    plan, token = _Plan(report), None
    plan.collect(read.entities)
    if not report.errors:
        plan.load_state()
        plan.resolve()
    if not report.errors:
        try:
            with transaction.atomic():
                plan.classify()
                plan.write()
                token = catalog_version()  # what this transaction leaves (its triggers ran)
                after = report.counts()
                if origin is not None:
                    orphaned = origins_record(plan, origin)
                    after |= {"orphaned": report.orphaned, "changes": entity_changes(plan)}
                    after["changes"] += orphaned
                if dry_run:
                    raise _DryRun
                audit_record(
                    actor=actor,
                    actor_label=actor_label,
                    action="catalog.source_sync" if origin is not None else "catalog.import",
                    target=origin,
                    after=after,
                    context=context,
                )
        except _DryRun:
            pass
        except DatabaseError as exc:
            report.created = report.updated = report.unchanged = 0
            report.errors.append(
                Problem("(database)", None, f"the database refused the import: {exc}")
            )
    if not report.errors and not dry_run:
        # Outside the import transaction: an API that does not compile keeps the catalog import.
        after_import_run(plan, report, actor=actor, actor_label=actor_label)
        if digestible:
            digest_record(
                paths, inputs=read.inputs, token=token, report=report, entities=len(plan.entities)
            )
    if report.errors and not dry_run:
        with transaction.atomic():
            audit_record(
                actor=actor,
                actor_label=actor_label,
                action="catalog.source_sync" if origin is not None else "catalog.import",
                target=origin,
                outcome=AuditEvent.Outcome.FAILED,
                after=report.counts(),
                reason=f"{len(report.errors)} error(s); nothing was imported",
                context=context,
            )
    return report


class _Plan:
    def __init__(self, report: ImportReport):
        self.report = report
        self.strict = report.strict
        self.errors = report.errors
        # Where a bad entity's problems go: errors (strict, nothing is written) or rejected.
        self.problems = report.errors if report.strict else report.rejected
        self.entities: dict[Key, EntityFields] = {}
        self.key_to_id: dict[type, dict[Key, int]] = {m: {} for m in MODEL_ORDER}
        self.id_to_key: dict[type, dict[int, Key]] = {m: {} for m in MODEL_ORDER}
        self.db_parent: dict[type, dict[Key, Key | None]] = {m: {} for m in MODEL_ORDER}
        self.system_namespace: dict[Key, Key | None] = {}
        self.existing: dict[Key, dict] = {}
        self.touched: dict[type, dict[Key, dict]] = {Team: {}, Person: {}}
        self.status: dict[Key, str] = {}
        self.rejected_keys: set[Key] = set()

    # --- 1. well-formed entities, skipped kinds, duplicates -------------------------------
    def collect(self, raws) -> None:
        for raw in raws:
            ident = identify(raw, self.problems)
            if ident is None:
                continue
            kind, namespace, name = ident
            if kind.lower() not in MODELLED_KINDS:
                self.report.skipped.append(
                    Skipped(
                        kind,
                        key_str(entity_key(kind, namespace, name)),
                        raw.file,
                        raw.line,
                        f"kind {kind} is not modelled in Switchyard",
                    )
                )
                continue
            entity = new_entity(raw, kind, namespace, name)
            first = self.entities.get(entity.key)
            if first is not None:
                kept = "" if self.strict else "; the first one is kept"
                self.problems.append(
                    Problem(
                        raw.file,
                        raw.line,
                        f"duplicate entity {key_str(entity.key)}: also defined in "
                        f"{first.raw.file} line {first.raw.line}{kept}",
                    )
                )
                continue
            self.entities[entity.key] = entity

    # --- 2. what the catalog holds now ----------------------------------------------------
    def load_state(self) -> None:
        for model in MODEL_ORDER:
            columns = ["id", "metadata_namespace", "name"]
            columns += ["entity_kind"] if model is Component else []
            columns += ["parent_id"] if SELF_FK in FK_FIELDS[model] else []
            columns += ["namespace_id"] if model is System else []
            for row in model.objects.values(*columns).iterator(chunk_size=5000):
                key = entity_key(key_kind(model, row), row["metadata_namespace"], row["name"])
                self.key_to_id[model][key] = row["id"]
                self.id_to_key[model][row["id"]] = key
        for model in MODEL_ORDER:
            if SELF_FK in FK_FIELDS[model]:
                parents = model.objects.filter(parent__isnull=False).values_list("id", "parent_id")
                ids = self.id_to_key[model]
                self.db_parent[model] = {ids[i]: ids.get(p) for i, p in parents}
        namespaces = self.id_to_key[Namespace]
        for sid, nid in System.objects.filter(namespace__isnull=False).values_list(
            "id", "namespace_id"
        ):
            self.system_namespace[self.id_to_key[System][sid]] = namespaces.get(nid)

    def known(self) -> set[Key]:
        known = set(self.entities)
        for model in MODEL_ORDER:
            known.update(self.key_to_id[model])
        return known

    # --- 3. fields and references ---------------------------------------------------------
    def resolve(self) -> None:
        """Read every entity's fields; tolerant: drop the bad ones and read the rest again, so
        that references to a dropped entity become unresolved relations."""
        known, file_cache = self.known(), {}
        for _attempt in range(3):
            self._build_all(known, file_cache)
            bad = {k: e.problems for k, e in self.entities.items() if e.problems}
            if self.strict or not bad:
                break
            for key, problems in bad.items():
                self.problems.extend(problems)
                self.rejected_keys.add(key)
                del self.entities[key]
                if not any(key in self.key_to_id[m] for m in MODEL_ORDER):
                    known.discard(key)
            self.entities = {
                k: new_entity(e.raw, e.raw.data["kind"], e.namespace, e.name)
                for k, e in self.entities.items()
            }
            self.touched = {Team: {}, Person: {}}
        for key, entity in list(self.entities.items()):
            self.problems.extend(entity.problems)
            self.report.warnings.extend(entity.notes)
            if entity.problems and not self.strict:
                self.rejected_keys.add(key)
                del self.entities[key]
                continue
            self.report.unresolved += [
                {
                    "entity": key_str(entity.key),
                    "field": spec_field,
                    "target": key_str(target),
                    "file": entity.raw.file,
                    "line": line,
                }
                for spec_field, target, line, _ in entity.unresolved
            ]

    def _build_all(self, known: set, file_cache: dict) -> None:
        for entity in self.entities.values():
            build(entity, FieldReader(entity, known, file_cache, strict=self.strict))
        self._reverse_dependencies()
        self._group_children()
        self._group_members()
        for entity in self.entities.values():
            if entity.kind in ("component", "api", "resource"):
                system = entity.refs.get("system")
                if system is None:
                    entity.refs["namespace"] = None
                elif system in self.entities:
                    entity.refs["namespace"] = self.entities[system].refs.get("namespace")
                else:
                    entity.refs["namespace"] = self.system_namespace.get(system)
        for model in (Team, Namespace, Component):
            self._check_cycles(model)

    def _reverse_dependencies(self) -> None:
        """spec.dependencyOf: the edge belongs to the dependent; one outside the run is added."""
        self.reverse_deps = []
        for entity in self.entities.values():
            kind = "data" if entity.kind == "resource" else "sync"
            for dependent in entity.dependency_of:
                if dependent in self.entities:
                    self.entities[dependent].deps.add((entity.key, kind, ""))
                else:
                    self.reverse_deps.append((dependent, entity.key, kind))

    def _group_children(self) -> None:
        """spec.children sets the parent of each child that does not name its own."""
        for group in [e for e in self.entities.values() if e.kind == "group"]:
            for child, line in group.children:
                entity = self.entities.get(child)
                if entity is not None and "parent" in entity.refs:
                    if entity.refs["parent"] not in (None, group.key):
                        group.problems.append(
                            Problem(
                                group.raw.file,
                                line,
                                f"{key_str(group.key)} lists {key_str(child)} in spec.children, "
                                f"but it names {key_str(entity.refs['parent'])} as spec.parent",
                            )
                        )
                    continue
                if entity is not None:
                    entity.refs["parent"] = group.key
                    entity.parent_line = line
                else:
                    self.touched[Team].setdefault(child, {})["parent"] = group.key
        for entity in self.entities.values():
            if entity.kind == "group":
                entity.refs.setdefault("parent", None)

    def _group_members(self) -> None:
        for group in [e for e in self.entities.values() if e.kind == "group"]:
            for user, _line in group.members:
                if user in self.entities:
                    self.entities[user].member_of.add(group.key)
                else:
                    self.touched[Person].setdefault(user, {}).setdefault("add", set()).add(
                        group.key
                    )

    def _check_cycles(self, model) -> None:
        parent = dict(self.db_parent[model])
        run = [e for e in self.entities.values() if MODEL_FOR_KIND[e.kind] is model]
        parent.update({e.key: e.refs.get("parent") for e in run})
        if model is Team:
            parent.update({k: t["parent"] for k, t in self.touched[Team].items()})
        by_key = {e.key: e for e in run}
        for start, path in parent_cycles(parent, by_key):
            entity = by_key[start]
            chain = " -> ".join(key_str(k) for k in [*path, start])
            entity.problems.append(
                Problem(
                    entity.raw.file, entity.parent_line, f"{PARENT[model]} forms a cycle: {chain}"
                )
            )

    # --- 4. created / updated / unchanged -------------------------------------------------
    def classify(self) -> None:
        by_model: dict[type, list[EntityFields]] = {m: [] for m in MODEL_ORDER}
        for entity in self.entities.values():
            by_model[MODEL_FOR_KIND[entity.kind]].append(entity)
        self.by_model = by_model
        for model in MODEL_ORDER:
            ids = [
                self.key_to_id[model][e.key]
                for e in by_model[model]
                if e.key in self.key_to_id[model]
            ]
            ids += [
                self.key_to_id[model][k]
                for k in self.touched.get(model, {})
                if k in self.key_to_id[model]
            ]
            columns = [*SCALAR_FIELDS[model], *(f"{f}_id" for f in FK_FIELDS[model])]
            for chunk in chunks(ids):
                for row in model.objects.filter(pk__in=chunk).values("id", *columns):
                    self.existing[self.id_to_key[model][row["id"]]] = row
        self.edges = EdgeState(self)
        self.pending = PendingRelations(self.entities)
        for model in MODEL_ORDER:
            for entity in by_model[model]:
                status = self._status(model, entity)
                if status == "unchanged" and self.pending.changed(entity):
                    status = "updated"
                self.status[entity.key] = status
        self._classify_touched()
        values = list(self.status.values())
        self.report.created = values.count("created")
        self.report.updated = values.count("updated")
        self.report.unchanged = values.count("unchanged")

    def _fk_key(self, model, row: dict, fk: str) -> Key | None:
        return self.id_to_key[FK_FIELDS[model][fk]].get(row[f"{fk}_id"])

    def _status(self, model, entity: EntityFields) -> str:
        row = self.existing.get(entity.key)
        if row is None:
            return "created"
        if any(row[f] != v for f, v in entity.row.items()):
            return "updated"
        if any(self._fk_key(model, row, fk) != entity.refs.get(fk) for fk in FK_FIELDS[model]):
            return "updated"
        return "updated" if self.edges.changed(entity) else "unchanged"

    def _classify_touched(self) -> None:
        for key, change in self.touched[Team].items():
            row = self.existing[key]
            if self._fk_key(Team, row, "parent") != change["parent"]:
                self.status[key] = "updated"
        for key, change in self.touched[Person].items():
            if not change["add"] <= self.edges.person_teams(self.key_to_id[Person][key]):
                self.status[key] = "updated"

    # --- 5. writes --------------------------------------------------------------------------
    def write(self) -> None:
        for model in MODEL_ORDER:
            self._create(model)
            self._update(model)
        for model in (Team, Namespace, Component):
            self._set_parents(model)
        self.edges.write()
        ids = self.key_to_id[Component]
        Dependency.objects.bulk_create(
            [
                Dependency(source_id=ids[a], target_id=ids[b], kind=k)
                for a, b, k in self.reverse_deps
            ],
            ignore_conflicts=True,
        )
        self.pending.write()
        created = [k for k, status in self.status.items() if status == "created"]
        self.report.resolved = self.pending.resolve_targets(created)

    def _fk_ids(self, model, entity: EntityFields, *, with_parent: bool) -> dict:
        ids = {}
        for fk, target in FK_FIELDS[model].items():
            if fk == SELF_FK and not with_parent:
                continue
            key = entity.refs.get(fk)
            ids[f"{fk}_id"] = self.key_to_id[target][key] if key is not None else None
        return ids

    def _create(self, model) -> None:
        new = [e for e in self.by_model[model] if self.status[e.key] == "created"]
        rows = [{**e.row, **self._fk_ids(model, e, with_parent=False)} for e in new]
        for entity, pk in zip(new, copy_rows(model, rows), strict=True):
            self.key_to_id[model][entity.key] = pk
            self.id_to_key[model][pk] = entity.key

    def _changed_fields(self, model, entity: EntityFields) -> tuple[str, ...]:
        row = self.existing[entity.key]
        fields = [f for f, v in entity.row.items() if row[f] != v]
        fields += [
            fk
            for fk in FK_FIELDS[model]
            if fk != SELF_FK and self._fk_key(model, row, fk) != entity.refs.get(fk)
        ]
        return tuple(sorted(fields))

    def _update(self, model) -> None:
        """bulk_update only the changed columns, one group per set of changed columns.

        bulk_update builds a CASE per column over its batch; writing 20 columns when one changed
        makes updating 10,000 components several times slower.
        """
        groups: dict[tuple, list] = {}
        for entity in self.by_model[model]:
            if self.status[entity.key] == "updated":
                groups.setdefault(self._changed_fields(model, entity), []).append(entity)
        now = timezone.now()
        for fields, entities in groups.items():
            columns = list(fields) + (["updated_at"] if model is Component else [])
            if not columns:
                continue
            objs = []
            for entity in entities:
                obj = model(pk=self.existing[entity.key]["id"])
                for name in fields:
                    if name in FK_FIELDS[model]:
                        key = entity.refs.get(name)
                        target = self.key_to_id[FK_FIELDS[model][name]]
                        setattr(obj, f"{name}_id", target[key] if key is not None else None)
                    else:
                        setattr(obj, name, entity.row[name])
                if model is Component:
                    obj.updated_at = now
                objs.append(obj)
            model.objects.bulk_update(objs, columns, batch_size=UPDATE_BATCH)

    def _set_parents(self, model) -> None:
        ids = self.key_to_id[model]
        wanted = {e.key: e.refs.get(SELF_FK) for e in self.by_model[model]}
        wanted.update({k: t["parent"] for k, t in self.touched.get(model, {}).items()})
        objs = []
        for key, parent in wanted.items():
            current = self.existing.get(key, {}).get("parent_id")
            parent_id = ids[parent] if parent is not None else None
            if current != parent_id:
                objs.append(model(pk=ids[key], parent_id=parent_id))
        if objs:
            model.objects.bulk_update(objs, ["parent"], batch_size=BATCH)
