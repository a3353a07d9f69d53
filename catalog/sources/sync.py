"""Running catalog sources: queue (beat or "sync now"), run, record the figures; orphans.

State moves only by conditional updates (idle -> queued -> running -> idle), so a task delivered
twice runs once and a run is never started twice. The fetch happens outside any transaction;
the import then writes in one transaction with its one audit event, under the source's machine
identity.
"""

import time
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.errors import IntegrationError
from portal.audit import AuditContext, audit_record
from portal.errors import PortalError
from portal.models import AuditEvent
from portal.permissions import permission_require

from ..models import CatalogSource, Component, EntityOrigin, Namespace, Person, System, Team
from .base import source_kind

State = CatalogSource.State
MAX_ERRORS_KEPT = 500
# A run that has not finished after this long lost its worker: beat marks it failed.
STUCK_AFTER = timedelta(hours=1)


def source_sync_request(*, actor, source: CatalogSource, context: AuditContext | None = None):
    """ "Sync now" from the admin: platform team only; queued unless a run is queued or running."""
    permission_require(
        actor=actor,
        perm="catalog.sync_catalogsource",
        obj=source,
        action="catalog.source_sync_request",
        context=context,
        message="Only the platform team may run catalog sources.",
    )
    with transaction.atomic():
        queued = CatalogSource.objects.filter(pk=source.pk, state=State.IDLE).update(
            state=State.QUEUED
        )
        audit_record(
            actor=actor,
            action="catalog.source_sync_request",
            target=source,
            reason="" if queued else "a run is already queued or running",
            context=context,
        )
        if queued:
            transaction.on_commit(lambda: _enqueue(source.pk))
    return bool(queued)


def _enqueue(pk: int) -> None:
    from ..tasks import source_sync_task

    source_sync_task.delay(pk)


def sources_queue_due(now=None) -> list[int]:
    """Beat: queue every enabled idle source whose interval has passed; fail runs that hung."""
    now = now or timezone.now()
    CatalogSource.objects.filter(state=State.RUNNING, started_at__lt=now - STUCK_AFTER).update(
        state=State.IDLE,
        outcome=CatalogSource.Outcome.FAILED,
        finished_at=now,
        message="The run did not finish (its worker stopped?). It runs again at the next interval.",
    )
    due = []
    for source in CatalogSource.objects.filter(enabled=True, state=State.IDLE):
        last = source.finished_at
        if last is None or last + timedelta(seconds=source.interval_seconds) <= now:
            if CatalogSource.objects.filter(pk=source.pk, state=State.IDLE).update(
                state=State.QUEUED
            ):
                due.append(source.pk)
    for pk in due:
        transaction.on_commit(lambda pk=pk: _enqueue(pk))
    return due


def source_run(pk: int) -> CatalogSource | None:
    """Run one sync of a queued (or idle) source; None when another run has it already."""
    started = timezone.now()
    if not CatalogSource.objects.filter(pk=pk, state__in=[State.IDLE, State.QUEUED]).update(
        state=State.RUNNING, started_at=started, progress_done=0, progress_total=0, message=""
    ):
        return None
    source = CatalogSource.objects.get(pk=pk)
    clock = time.monotonic()
    try:
        kind = source_kind(source)
        fetched = kind.fetch(lambda done, total: _progress(pk, done, total))
        if fetched.unchanged:
            counts = dict.fromkeys(("created", "updated", "orphaned", "errors"), 0)
            counts["unchanged"] = source.origins.filter(orphaned_at__isnull=True).count()
            return _finish(
                source,
                clock,
                message="Nothing changed at the source (conditional requests).",
                counts=counts,
                errors=[],
                cache=fetched.cache,
            )
        report = kind.apply(fetched)
    except IntegrationError as exc:
        _audit_failure(source, str(exc))
        return _finish(
            source,
            clock,
            outcome=CatalogSource.Outcome.FAILED,
            message=f"{exc}. The catalog is unchanged; the next run tries again.",
        )
    except BaseException:
        _finish(source, clock, outcome=CatalogSource.Outcome.FAILED, message="Internal error.")
        raise
    problems = [p.as_dict() for p in [*report.errors, *report.rejected]]
    counts = {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "orphaned": report.orphaned,
        "errors": len(problems),
        "unresolved": len(report.unresolved),
    }
    failed = bool(report.errors)
    return _finish(
        source,
        clock,
        outcome=CatalogSource.Outcome.FAILED if failed else CatalogSource.Outcome.OK,
        counts=counts,
        errors=problems[:MAX_ERRORS_KEPT],
        cache=fetched.cache,
        message="The database refused the import." if failed else "",
    )


def _progress(pk: int, done: int, total: int) -> None:
    CatalogSource.objects.filter(pk=pk).update(progress_done=done, progress_total=total)


def _finish(source, clock, *, outcome=CatalogSource.Outcome.OK, message="", **fields):
    values = {
        "state": State.IDLE,
        "finished_at": timezone.now(),
        "duration_ms": int((time.monotonic() - clock) * 1000),
        "outcome": outcome,
        "message": message,
        **fields,
    }
    CatalogSource.objects.filter(pk=source.pk).update(**values)
    source.refresh_from_db()
    return source


def _audit_failure(source, message: str) -> None:
    with transaction.atomic():
        audit_record(
            actor=None,
            actor_label=source.machine_identity,
            action="catalog.source_sync",
            target=source,
            outcome=AuditEvent.Outcome.FAILED,
            reason=message,
        )


def orphans(source: CatalogSource | None = None):
    rows = EntityOrigin.objects.filter(orphaned_at__isnull=False).select_related("source")
    return rows.filter(source=source) if source is not None else rows


def orphan_delete(*, actor, origin: EntityOrigin, context: AuditContext | None = None) -> None:
    """Delete an orphaned entity (and its origin row): platform team only, audited."""
    permission_require(
        actor=actor,
        perm="catalog.delete_orphan",
        obj=origin,
        action="catalog.orphan_delete",
        context=context,
        message="Only the platform team may delete orphaned entities.",
    )
    with transaction.atomic():
        origin = EntityOrigin.objects.select_for_update().get(pk=origin.pk)
        if origin.orphaned_at is None:
            raise PortalError(f"{origin.entity} is back in {origin.source}: it is not an orphan.")
        before = _delete_entity(origin.entity)
        origin.delete()
        audit_record(
            actor=actor,
            action="catalog.orphan_delete",
            before={"entity": origin.entity, "source": origin.source.name, "row": before},
            context=context,
        )


def _delete_entity(ref: str) -> dict | None:
    kind, _, rest = ref.partition(":")
    namespace, _, name = rest.partition("/")
    model = {"group": Team, "user": Person, "domain": Namespace, "system": System}.get(
        kind, Component
    )
    rows = model.objects.filter(Q(metadata_namespace__iexact=namespace) & Q(name__iexact=name))
    if model is Component:
        rows = rows.filter(entity_kind__iexact=kind)
    found = rows.values().first()
    rows.delete()
    return found
