"""For an import run by a catalog source: where each entity came from, orphans, and the detail
of every change (the sync's one audit event carries it)."""

from django.utils import timezone

from ..models import EntityOrigin
from .refs import key_str
from .schema import BATCH, FK_FIELDS, MODEL_FOR_KIND, chunks

# Fields left out of an audit detail: long texts that other events already version.
_NOT_AUDITED = ("definition",)
_MAX_TEXT = 200


def _short(value):
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        return value[:_MAX_TEXT] + "…"
    return value


def _fk_refs(plan, model, entity) -> dict:
    return {fk: key_str(k) if (k := entity.refs.get(fk)) else None for fk in FK_FIELDS[model]}


def entity_changes(plan) -> list[dict]:
    """Per created or updated entity: what it was and what it is now (changed fields only)."""
    changes = []
    for key, status in plan.status.items():
        entity = plan.entities.get(key)
        if entity is None or status == "unchanged":
            continue
        model = MODEL_FOR_KIND[entity.kind]
        after = {f: _short(v) for f, v in entity.row.items() if f not in _NOT_AUDITED}
        after |= _fk_refs(plan, model, entity)
        if status == "created":
            changes.append({"entity": key_str(key), "change": "created", "after": after})
            continue
        row = plan.existing[key]
        before = {f: _short(row[f]) for f in entity.row if f in row and f not in _NOT_AUDITED}
        before |= {
            fk: key_str(k) if (k := plan._fk_key(model, row, fk)) else None
            for fk in FK_FIELDS[model]
        }
        changed = sorted(f for f in after if before.get(f) != after[f])
        changes.append(
            {
                "entity": key_str(key),
                "change": "updated",
                "before": {f: before.get(f) for f in changed},
                "after": {f: after[f] for f in changed},
            }
        )
    return changes


def origins_record(plan, source) -> list[dict]:
    """Record that `source` provides the run's entities; mark the ones it no longer provides.

    An entity that is in the source but invalid this time is not an orphan. Returns one change
    per newly orphaned entity (for the audit detail).
    """
    now = timezone.now()
    seen = {key_str(k) for k in plan.entities} | {key_str(k) for k in plan.rejected_keys}
    current = dict(EntityOrigin.objects.filter(source=source).values_list("entity", "orphaned_at"))
    stored = _stored_refs(plan)  # an invalid entity never imported has no row, so no origin
    new = [k for k in seen if k not in current and k in stored]
    EntityOrigin.objects.bulk_create(
        [EntityOrigin(entity=k, source=source, seen_at=now) for k in new],
        batch_size=BATCH,
        update_conflicts=True,  # an entity another source provided before: this one took over
        unique_fields=["entity"],
        update_fields=["source", "seen_at", "orphaned_at"],
    )
    back = [k for k, orphaned in current.items() if orphaned is not None and k in seen]
    gone = [k for k, orphaned in current.items() if orphaned is None and k not in seen]
    for chunk in chunks(back):
        EntityOrigin.objects.filter(source=source, entity__in=chunk).update(
            orphaned_at=None, seen_at=now
        )
    for chunk in chunks(gone):
        EntityOrigin.objects.filter(source=source, entity__in=chunk).update(orphaned_at=now)
    plan.report.orphaned = len(gone)
    return [{"entity": k, "change": "orphaned"} for k in sorted(gone)]


def _stored_refs(plan) -> set[str]:
    refs = {key_str(k) for k in plan.entities}
    for ids in plan.key_to_id.values():
        refs |= {key_str(k) for k in plan.rejected_keys if k in ids}
    return refs
