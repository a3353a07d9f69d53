"""The release machine's primitives, shared by people's actions (services) and machine steps:
a conditional transition with its timeline event, the poll schedule, the abort status line."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..cdevents.services import cdevents_release_record
from .models import Release, ReleaseEvent
from .signals import release_paused


def release_transition(
    *,
    release_id: int,
    from_states,
    to_state: str,
    message: str,
    data: dict | None = None,
    where: dict | None = None,
    **fields,
) -> bool:
    """Move a release from one of `from_states` to `to_state`, or do nothing; True if it moved.

    The UPDATE carries the expected state (and any `where` conditions) in its WHERE clause: of two
    workers racing, one wins.
    """
    now = timezone.now()
    if to_state in Release.TERMINAL_STATES:
        fields.setdefault("finished_at", now)
        fields.setdefault("next_poll_at", None)
    with transaction.atomic():
        moved = Release.objects.filter(
            pk=release_id, state__in=list(from_states), **(where or {})
        ).update(state=to_state, updated_at=now, **fields)
        if moved:
            ReleaseEvent.objects.create(
                release_id=release_id, state=to_state, message=message[:500], data=data or {}
            )
            # the CDEvents of the transition commit with it (the outbox); Celery delivers them
            cdevents_release_record(release_id=release_id, state=to_state)
            if to_state in (Release.State.FAILED, Release.State.ABORTED):
                # the people's notifications commit with the transition; Celery delivers them
                from notifications.events import release_finished_notify

                release_finished_notify(release_id, to_state, why=message, data=data)
            if to_state == Release.State.PAUSED:
                transaction.on_commit(
                    lambda: release_paused.send(sender=Release, release_id=release_id),
                    robust=True,
                )
            if to_state == Release.State.DISPATCHING or to_state in Release.TERMINAL_STATES:
                # A release started or finished: its PagerDuty change event (oncall) goes into
                # the outbox with the transition; Celery sends it, and PagerDuty being down
                # never reaches the machine.
                from oncall.services import change_event_record

                change_event_record(release_id=release_id, state=to_state)
    return bool(moved)


def release_aborted_status(release: Release) -> str:
    """What an abort of a release that reached the cluster does, for its status line."""
    return (
        "Aborted: the rollout is told to send all traffic back to the stable version "
        f"{release.previous_version or '(previous)'}; the new pods are scaled down."
    )


def release_poll_schedule(
    *, release_id: int, changed: bool, interval_now: float | None = None, observed: bool = False
) -> None:
    """Poll again soon after a change, and back off (to 10 s) while nothing moves: the
    release page's state stays within RELEASE_STALE_SECONDS while the worker runs.

    `interval_now`: the release's current poll interval, when the caller has it loaded.
    `observed`: the outside world was just read (the release page's "how old" stamp).
    """
    if interval_now is None:
        interval_now = Release.objects.only("poll_interval").get(pk=release_id).poll_interval
    interval = 2.0 if changed else min(10.0, interval_now * 1.5)
    now = timezone.now()
    fields = {"observed_at": now} if observed else {}
    Release.objects.filter(pk=release_id, state__in=Release.ACTIVE_STATES).update(
        poll_interval=interval, next_poll_at=now + timedelta(seconds=interval), **fields
    )
