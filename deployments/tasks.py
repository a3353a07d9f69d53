"""Celery entry points for releases: load by pk, call a machine step, decide on retries."""

from celery import shared_task

from integrations.errors import IntegrationError

from . import machine

MAX_RETRIES = 6


@shared_task(name="deployments.release_dispatch", bind=True, max_retries=MAX_RETRIES)
def release_dispatch(self, release_id: int) -> None:
    """Start the release's GitHub Actions workflow; transient failures retry with backoff."""
    try:
        machine.release_dispatch_run(release_id=release_id)
    except IntegrationError as exc:
        if not exc.transient:
            return  # the release is marked failed with the reason already
        if self.request.retries >= self.max_retries:
            machine.release_dispatch_give_up(release_id=release_id, error=exc.message)
            return
        raise self.retry(exc=exc, countdown=min(120, 2 ** (self.request.retries + 1)))


@shared_task(name="deployments.release_poll")
def release_poll(release_id: int) -> None:
    """Look at GitHub / Argo CD once for one release (failures are recorded, polling goes on)."""
    machine.release_poll_run(release_id=release_id)


@shared_task(name="deployments.release_signal", bind=True, max_retries=MAX_RETRIES)
def release_signal(self, release_id: int, signal: str) -> None:
    """Send promote / promote-full / abort to the Rollout, retrying while Argo CD is down."""
    try:
        machine.release_signal_send(release_id=release_id, signal=signal)
    except IntegrationError as exc:
        if exc.transient and self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=min(120, 2 ** (self.request.retries + 1)))
        machine.release_signal_failed(release_id=release_id, signal=signal, error=str(exc))


@shared_task(name="deployments.releases_tick")
def releases_tick() -> int:
    """Beat, every 2 s: poll the releases whose time has come; restart lost dispatches."""
    for release_id in machine.releases_stuck():
        release_dispatch.delay(release_id)
    due = machine.releases_due()
    machine.releases_sweep(due)
    return len(due)


# -- Controls and runtime tuning (issue 5) ----------------------------------------------------


@shared_task(name="deployments.control_action_apply", bind=True, max_retries=MAX_RETRIES)
def control_action_apply(self, action_id: int) -> None:
    """Send one knob change to Kubernetes. A second delivery finds it claimed and does nothing."""
    from . import controls

    if not controls.control_action_claim(action_id=action_id):
        return
    try:
        message = controls.control_action_send(action_id=action_id)
    except IntegrationError as exc:
        if _may_retry(self, exc):
            controls.control_action_requeue(action_id=action_id)
            raise self.retry(exc=exc, countdown=min(120, 2 ** (self.request.retries + 1)))
        controls.control_action_finish(action_id=action_id, ok=False, message=exc.message)
        return
    controls.control_action_finish(action_id=action_id, ok=True, message=message)


@shared_task(name="deployments.tuning_push", bind=True, max_retries=MAX_RETRIES)
def tuning_push(self, component_id: int, environment_id: int) -> None:
    """Merge a component's runtime values into its ConfigMap; the rows say if it failed."""
    from . import tuning

    try:
        tuning.tuning_push(component_id=component_id, environment_id=environment_id)
    except IntegrationError as exc:
        if _may_retry(self, exc):
            raise self.retry(exc=exc, countdown=min(120, 2 ** (self.request.retries + 1)))


def _may_retry(task, exc: IntegrationError) -> bool:
    """Transient failures retry with backoff on a worker. Run eagerly (tests, a demo without a
    worker) nobody would come back later: the failure is recorded at once instead."""
    if task.request.is_eager:
        return False
    return exc.transient and task.request.retries < task.max_retries


@shared_task(name="deployments.tuning_expire")
def tuning_expire() -> int:
    """Beat: revert temporary overrides whose time is up (each revert audited and pushed)."""
    from . import tuning

    return tuning.tuning_expire_due()


@shared_task(name="deployments.control_actions_recover")
def control_actions_recover() -> int:
    """Beat, every minute: resend knob changes whose task or worker was lost."""
    from . import controls

    ids = controls.control_actions_recover()
    for action_id in ids:
        control_action_apply.delay(action_id)
    return len(ids)
