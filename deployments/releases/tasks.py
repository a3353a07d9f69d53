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
