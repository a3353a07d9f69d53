"""Celery entry points of the CDEvents outbox: the work and its retries live in the rows."""

from celery import shared_task

from . import machine


@shared_task(name="deployments.cdevents_deliver", ignore_result=True)
def cdevents_deliver(sink_id: int, stream: str) -> None:
    """Deliver one stream to one sink; re-run it if a sink failed in the loop (the rows say)."""
    if machine.cdevents_deliver_run(sink_id=sink_id, stream=stream) >= machine.BATCH:
        cdevents_deliver.delay(sink_id, stream)  # a long stream: hand over, keep going


@shared_task(name="deployments.cdevents_sweep", ignore_result=True)
def cdevents_sweep() -> int:
    """Beat: wake every stream whose next attempt is due (a sink back up, a lost task)."""
    due = machine.cdevents_due()
    for sink_id, stream in due:
        cdevents_deliver.delay(sink_id, stream)
    return len(due)
