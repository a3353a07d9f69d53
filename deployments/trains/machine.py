"""The train machine: Celery (a tick per train, and beat) only moves it forward.

Every step is a conditional UPDATE on the train or one of its services, so a duplicate or late
tick changes nothing. Each service goes out through `release_start`, the one door for releases,
so the environment's approvals, canary steps and gates apply to it as to any release.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from portal.errors import PermissionDenied, PortalError

from ..releases.models import Release
from ..releases.services import release_abort, release_start
from .models import Train, TrainEvent, TrainService
from .parts import (
    approver_of,
    release_authoriser,
    service_cleared,
    train_parts_close,
    train_release_paused,
)

S = TrainService.State
STARTING_GRACE = timedelta(seconds=60)


def train_tick_run(*, train_id: int) -> str:
    """One step of the train; returns its state afterwards."""
    train = Train.objects.select_related("environment", "started_by").get(pk=train_id)
    if train.state == Train.State.RUNNING:
        _run_wave(train)
        train.refresh_from_db(fields=["state", "current_wave", "failure_reason"])
    if train.state == Train.State.ROLLING_BACK:
        # In the same tick as the failure: the other canaries in flight are aborted at once.
        _roll_back(train)
    return Train.objects.values_list("state", flat=True).get(pk=train_id)


def train_release_aborted(*, release_id: int) -> None:
    """A release was aborted by the machine (an analysis gate): the train holding it takes its
    step at once, so the rest of its wave is aborted in the same analysis tick."""
    from . import tasks

    for train_id in TrainService.objects.filter(
        release_id=release_id, train__state=Train.State.RUNNING
    ).values_list("train_id", flat=True):
        transaction.on_commit(lambda pk=train_id: tasks.train_tick.delay(pk))


def trains_active() -> list[int]:
    return list(Train.objects.filter(state__in=Train.ACTIVE_STATES).values_list("pk", flat=True))


def _transition(train: Train, *, from_state, to_state, message, where=None, data=None, **fields):
    if to_state in Train.TERMINAL_STATES:
        fields.setdefault("finished_at", timezone.now())
    with transaction.atomic():
        moved = Train.objects.filter(pk=train.pk, state=from_state, **(where or {})).update(
            state=to_state, **fields
        )
        if moved:
            TrainEvent.objects.create(
                train=train, state=to_state, message=message[:500], data=data or {}
            )
            if to_state in Train.TERMINAL_STATES:
                train_parts_close(train)
    return bool(moved)


def _service_move(service: TrainService, from_state, to_state, **fields) -> bool:
    return bool(
        TrainService.objects.filter(pk=service.pk, state=from_state).update(
            state=to_state, changed_at=timezone.now(), **fields
        )
    )


def _recover_starting(train: Train, service: TrainService) -> None:
    """A worker died between claiming a service and recording its release: adopt the release
    it made (found by the train's reason), or give the service back to the next tick."""
    if timezone.now() - service.changed_at < STARTING_GRACE:
        return
    made = (
        Release.objects.filter(
            component=service.component,
            environment=train.environment,
            created_at__gte=train.started_at,
            reason__startswith=f"Train “{train.title}”",
        )
        .order_by("-created_at")
        .first()
    )
    if made:
        _service_move(service, S.STARTING, S.RELEASING, release=made)
    else:
        _service_move(service, S.STARTING, S.PENDING)


def _note(train: Train, message: str, data: dict | None = None) -> None:
    TrainEvent.objects.create(
        train=train, state=train.state, message=message[:500], data=data or {}
    )


# --- running ------------------------------------------------------------------------------


def _run_wave(train: Train) -> None:
    wave = train.current_wave
    services = list(train.services.filter(wave=wave).select_related("component", "release"))
    parts = list(train.approvals.select_related("decided_by", "team"))
    for service in services:
        if service.state == S.PENDING:
            # Each service waits for its owners' approval of their part (policy or permission).
            if not service_cleared(parts, service):
                _say(service, f"Waits for {service.component.owner}'s approval of its part")
            elif _service_move(service, S.PENDING, S.STARTING):
                _release_one(train, service, release_authoriser(train, parts, service))
        elif service.state == S.RELEASING:
            _observe(train, service, parts)
        elif service.state == S.STARTING:
            _recover_starting(train, service)
    states = list(train.services.filter(wave=wave).values_list("state", flat=True))
    failed = train.services.filter(wave=wave, state=S.FAILED).select_related("component").first()
    if failed:
        _transition(
            train,
            from_state=Train.State.RUNNING,
            to_state=Train.State.ROLLING_BACK,
            where={"current_wave": wave},
            failure_reason=f"Wave {wave + 1} failed: {failed.component}: {failed.message}",
            message=f"Wave {wave + 1} failed ({failed.component}: {failed.message}); rolling back",
        )
    elif states and all(state == S.SUCCEEDED for state in states):
        _wave_done(train, wave)


def _say(service: TrainService, message: str) -> None:
    if service.message != message:
        TrainService.objects.filter(pk=service.pk).update(message=message[:500])


def _wave_done(train: Train, wave: int) -> None:
    last = train.services.order_by("-wave").values_list("wave", flat=True).first()
    if wave >= last:
        _transition(
            train,
            from_state=Train.State.RUNNING,
            to_state=Train.State.SUCCEEDED,
            where={"current_wave": wave},
            message=f"All {wave + 1} waves released",
        )
    else:
        _transition(
            train,
            from_state=Train.State.RUNNING,
            to_state=Train.State.RUNNING,
            where={"current_wave": wave},
            current_wave=wave + 1,
            message=f"Wave {wave + 1} released; wave {wave + 2} starts",
        )


def _release_one(train: Train, service: TrainService, authoriser=None) -> None:
    """Release one service of the wave (claimed as STARTING by the caller); `authoriser`: the
    owner whose approval lets the starter release it."""
    try:
        release = release_start(
            actor=train.started_by,
            component=service.component,
            environment=train.environment,
            version=service.version,
            strategy=train.strategy,
            reason=f"Train “{train.title}”, wave {service.wave + 1}",
            train=train,
            authorised_by=authoriser,
        )
    except (PortalError, PermissionDenied) as exc:
        _service_move(service, S.STARTING, S.FAILED, message=str(exc)[:500])
        return
    _service_move(service, S.STARTING, S.RELEASING, release=release, message="")


def _observe(train: Train, service: TrainService, parts) -> None:
    release = service.release
    if release is not None and release.state == Release.State.PAUSED and train.approval_mode:
        approver = approver_of(parts, service)
        if approver is not None:
            said = train_release_paused(
                train=train, service=service, release=release, approver=approver
            )
            _say(service, said or "")
    if release is None or release.state == Release.State.SUCCEEDED:
        _service_move(service, S.RELEASING, S.SUCCEEDED, message="Released")
    elif release.state in (Release.State.FAILED, Release.State.ABORTED):
        # Who aborted and why (an analysis gate, with its numbers) is the abort's own line.
        aborted = release.events.filter(state=Release.State.ABORTED).values_list("message")
        why = (
            (aborted.last() or [""])[0]
            or release.last_error
            or release.status_message
            or release.get_state_display()
        )
        _service_move(
            service, S.RELEASING, S.FAILED, message=f"release {release.state}: {why}"[:500]
        )


# --- rolling back -------------------------------------------------------------------------


def _roll_back(train: Train) -> None:
    """Abort what is in flight, then restore the released waves from the last to the first."""
    failing = train.current_wave
    for service in train.services.filter(wave=failing, state=S.RELEASING).select_related(
        "release", "component"
    ):
        _abort_one(train, service)
    for service in train.services.filter(state=S.STARTING).select_related("component"):
        _recover_starting(train, service)  # then aborted (released) or not run (pending)
    train.services.filter(state=S.PENDING).update(state=S.NOT_RUN, message="Not run: rolled back")
    restorable = train.services.filter(state__in=[S.SUCCEEDED, S.RESTORING])
    top = restorable.order_by("-wave").values_list("wave", flat=True).first()
    if top is None:
        if not train.services.filter(state__in=[S.STARTING, S.ABORTING]).exists():
            _finish_rollback(train)
        return
    parts = list(train.approvals.select_related("decided_by"))
    for service in restorable.filter(wave=top).select_related(
        "release", "restore_release", "component"
    ):
        if service.state == S.SUCCEEDED and _service_move(service, S.SUCCEEDED, S.RESTORING):
            _restore_one(train, service, release_authoriser(train, parts, service))
        elif service.state == S.RESTORING:
            _observe_restore(train, service)


def _abort_one(train: Train, service: TrainService) -> None:
    if not _service_move(service, S.RELEASING, S.ABORTING):
        return
    release = service.release
    try:
        release_abort(
            actor=train.started_by, release=release, reason=f"Train “{train.title}” failed"
        )
    except PortalError:
        release.refresh_from_db()
        if release.state == Release.State.SUCCEEDED:  # it finished first: restore it instead
            _service_move(service, S.ABORTING, S.SUCCEEDED, message="Released before the abort")
            return
    _service_move(service, S.ABORTING, S.ABORTED, message="Canary aborted")
    _note(train, f"Aborted the canary of {service.component} {service.version}")


def _restore_one(train: Train, service: TrainService, authoriser=None) -> None:
    """Release the version that ran before, through the same release service and GitOps path."""
    previous = service.release.previous_version if service.release else ""
    if not previous:
        _service_move(service, S.RESTORING, S.FAILED, message="Nothing ran before: not restored")
        _note(train, f"{service.component}: no earlier version ran here, left at {service.version}")
        return
    try:
        release = release_start(
            actor=train.started_by,
            component=service.component,
            environment=train.environment,
            version=previous,
            reason=f"Train “{train.title}” rolled back: restore {previous}",
            rollback_of=service.release,
            train=train,
            authorised_by=authoriser,
        )
    except (PortalError, PermissionDenied) as exc:
        _service_move(service, S.RESTORING, S.FAILED, message=f"Restore refused: {exc}"[:500])
        _note(train, f"Could not restore {service.component}: {exc}")
        return
    TrainService.objects.filter(pk=service.pk).update(restore_release=release)
    _note(train, f"Restoring {service.component} (wave {service.wave + 1}) to {previous}")


def _observe_restore(train: Train, service: TrainService) -> None:
    release = service.restore_release
    if release is None or release.is_active:
        return
    if release.state == Release.State.SUCCEEDED:
        _service_move(service, S.RESTORING, S.RESTORED, message=f"Restored {release.version}")
        _note(train, f"Restored {service.component} to {release.version}")
    else:
        _service_move(service, S.RESTORING, S.FAILED, message=f"Restore {release.state}")
        _note(train, f"Restore of {service.component} {release.state}: look at its release")


def _finish_rollback(train: Train) -> None:
    undone = train.services.filter(state__in=[S.ABORTED, S.RESTORED]).count()
    _transition(
        train,
        from_state=Train.State.ROLLING_BACK,
        to_state=Train.State.ROLLED_BACK,
        message=f"Rolled back: {undone} services undone. {train.failure_reason}",
    )
