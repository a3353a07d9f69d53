"""The release machine's primitives, shared by people's actions (services) and machine steps:
a conditional transition with its timeline event, the poll schedule, the abort status line."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import Release, ReleaseEvent


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
            if to_state in (Release.State.FAILED, Release.State.ABORTED):
                # the people's notifications commit with the transition; Celery delivers them
                from notifications.events import release_finished_notify

                release_finished_notify(release_id, to_state, why=message, data=data)
            if to_state == Release.State.DISPATCHING or to_state in Release.TERMINAL_STATES:
                # robust: a broker or PagerDuty failure is logged, never raised into the machine
                transaction.on_commit(lambda: _announce(release_id, to_state), robust=True)
    return bool(moved)


def _announce(release_id: int, state: str) -> None:
    """A release started or finished: a PagerDuty change event (oncall), sent by Celery."""
    from oncall.tasks import release_change_event

    release_change_event.delay(release_id, state)


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
