"""Celery entry points for PagerDuty: load by pk, call a service, decide on retries."""

from celery import shared_task

from integrations.errors import IntegrationError

from . import services

MAX_RETRIES = 5


@shared_task(name="oncall.release_change_event", bind=True, max_retries=MAX_RETRIES)
def release_change_event(self, release_id: int, state: str) -> None:
    """A release started or finished: tell PagerDuty (retrying while it is down). A failure
    never touches the release; it is logged by Celery and given up after the retries."""
    try:
        services.release_change_event_send(release_id=release_id, state=state)
    except IntegrationError as exc:
        if exc.transient and self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=min(120, 2 ** (self.request.retries + 1)))


@shared_task(name="oncall.incidents_sync", ignore_result=True)
def incidents_sync() -> int:
    """Beat: copy new PagerDuty incidents into the ledger (DORA, CDEvents)."""
    from .incidents import incidents_sync as sync

    return sync()


@shared_task(name="oncall.change_event_deliver", bind=True, max_retries=MAX_RETRIES)
def change_event_deliver(self, event_id: int) -> str:
    """Send one change event of the outbox, retrying with backoff while PagerDuty is down."""
    outcome = services.change_event_deliver(event_id=event_id)
    if outcome == "retry" and self.request.retries < self.max_retries:
        raise self.retry(countdown=min(120, 2 ** (self.request.retries + 1)))
    return outcome


@shared_task(name="oncall.change_events_recover")
def change_events_recover() -> int:
    """Beat: change events a dead worker or a lost task left behind are sent again."""
    ids = services.change_events_recover()
    for pk in ids:
        change_event_deliver.delay(pk)
    return len(ids)
