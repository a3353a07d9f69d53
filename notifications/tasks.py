"""Celery entry points for notifications: claim a row, send it, retry what is transient."""

from celery import shared_task

from . import services


@shared_task(name="notifications.deliver", bind=True, max_retries=6)
def deliver(self, notification_id: int) -> str:
    outcome = services.notification_deliver(notification_id=notification_id)
    if outcome == "retry" and self.request.retries < self.max_retries:
        raise self.retry(countdown=min(300, 5 * 2**self.request.retries))
    return outcome


@shared_task(name="notifications.recover")
def recover() -> int:
    """Beat: rows left "sending" by a dead worker are delivered again."""
    ids = services.notifications_recover()
    for pk in ids:
        deliver.delay(pk)
    return len(ids)


@shared_task(name="notifications.remind")
def remind() -> int:
    """Beat: approvals about to expire, temporary overrides about to revert."""
    from .events import reminders_send

    return reminders_send()
