"""PagerDuty change events for releases: start and finish, on the component's service,
through an outbox (`ChangeEvent`): recorded with the transition, sent by Celery."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.errors import IntegrationError
from integrations.pagerduty import pagerduty_client

from .models import ChangeEvent
from .selectors import INTEGRATION_KEY

MAX_ATTEMPTS = 6

ANNOUNCED = {"dispatching": "started", "succeeded": "succeeded", "failed": "failed",
             "aborted": "aborted"}  # fmt: skip


def release_change_event_send(*, release_id: int, state: str) -> bool:
    """Send the change event of a release reaching `state`; False when there is nothing to send
    (no integration key on the component, or a state that is not a start or a finish)."""
    from deployments.models import Release

    release = Release.objects.select_related("component", "environment", "requested_by").get(
        pk=release_id
    )
    key = str((release.component.annotations or {}).get(INTEGRATION_KEY, "")).strip()
    if not key or state not in ANNOUNCED:
        return False
    what = ANNOUNCED[state]
    url = settings.SITE_URL.rstrip("/") + release.get_absolute_url()
    pagerduty_client().change_event_send(
        key,
        summary=f"Release of {release.component.name} {release.version} to "
        f"{release.environment.name} {what}",
        source="switchyard",
        details={
            "release": release.pk,
            "component": release.component.name,
            "environment": release.environment.name,
            "version": release.version,
            "previous_version": release.previous_version,
            "strategy": release.strategy,
            "state": state,
            "requested_by": getattr(release.requested_by, "username", ""),
        },
        links=[{"href": url, "text": f"Release {release.pk} in Switchyard"}],
    )
    return True


def change_event_record(*, release_id: int, state: str) -> int | None:
    """Call in the transaction of a release's transition: the outbox row of its change event
    (when it is a start or a finish and the component has an integration key), delivered on
    commit. Returns the row's id, or None (nothing to announce, or announced already)."""
    from deployments.models import Release

    if state not in ANNOUNCED:
        return None
    annotations = (
        Release.objects.filter(pk=release_id).values_list("component__annotations", flat=True)
    ).first()
    if not str((annotations or {}).get(INTEGRATION_KEY, "")).strip():
        return None
    row, created = ChangeEvent.objects.get_or_create(release_id=release_id, announced=state)
    if not created:
        return None
    from . import tasks

    transaction.on_commit(lambda: tasks.change_event_deliver.delay(row.pk), robust=True)
    return row.pk


def change_event_deliver(*, event_id: int) -> str:
    """Send one outbox row: "sent", "retry" (transient, back to pending), "failed", or
    "skipped" (claimed by another worker, or done: a duplicate task changes nothing)."""
    claimed = ChangeEvent.objects.filter(pk=event_id, state=ChangeEvent.State.PENDING).update(
        state=ChangeEvent.State.SENDING, attempts=F("attempts") + 1, claimed_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    row = ChangeEvent.objects.get(pk=event_id)
    sending = ChangeEvent.objects.filter(pk=row.pk, state=ChangeEvent.State.SENDING)
    try:
        release_change_event_send(release_id=row.release_id, state=row.announced)
    except IntegrationError as exc:
        again = exc.transient and row.attempts < MAX_ATTEMPTS
        sending.update(
            state=ChangeEvent.State.PENDING if again else ChangeEvent.State.FAILED,
            last_error=str(exc)[:500],
        )
        return "retry" if again else "failed"
    sending.update(state=ChangeEvent.State.SENT, sent_at=timezone.now(), last_error="")
    return "sent"


def change_events_recover(*, older_than_seconds: int = 120) -> list[int]:
    """Rows a dead worker left sending, or whose task was lost, are due again; their ids."""
    stale = timezone.now() - timedelta(seconds=older_than_seconds)
    ChangeEvent.objects.filter(state=ChangeEvent.State.SENDING, claimed_at__lt=stale).update(
        state=ChangeEvent.State.PENDING
    )
    due = ChangeEvent.objects.filter(state=ChangeEvent.State.PENDING, created_at__lt=stale)
    return list(due.values_list("pk", flat=True)[:500])
