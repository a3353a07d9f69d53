"""Delivery of the outbox: Celery's steps, never a person's.

A sink receives each stream's events in order: a delivery is sent only when it is the oldest
pending one of its stream for that sink, and only by the worker that claimed it (a conditional
UPDATE). A failed send waits (backing off) and holds the stream's later events behind it, so a
sink that is down receives everything, in order, once it is back. A duplicate or late task finds
nothing to claim and does nothing; beat's sweep wakes streams whose next attempt is due.
"""

import logging
from datetime import timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from integrations.cdevents import cdevent_sender
from integrations.errors import IntegrationError

from .models import CDEventDelivery

logger = logging.getLogger(__name__)
CLAIM = timedelta(seconds=60)  # longer than one send's timeout
MAX_BACKOFF = 300.0
BATCH = 200  # events of one stream sent by one task before it hands over
SWEEP_LIMIT = 500


def backoff_seconds(attempts: int) -> float:
    return min(MAX_BACKOFF, 2.0**attempts)


def _claim(delivery_id: int) -> bool:
    now = timezone.now()
    return bool(
        CDEventDelivery.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            pk=delivery_id,
            state=CDEventDelivery.State.PENDING,
            next_attempt_at__lte=now,
        ).update(claimed_until=now + CLAIM)
    )


def cdevents_deliver_run(*, sink_id: int, stream: str) -> int:
    """Send the stream's pending events to the sink, oldest first, until one fails or none is
    left; the number delivered. Raises nothing: failures are recorded on the row."""
    sender = cdevent_sender()
    delivered = 0
    for _ in range(BATCH):
        head = (
            CDEventDelivery.objects.filter(
                sink_id=sink_id, stream=stream, state=CDEventDelivery.State.PENDING
            )
            .select_related("event", "sink")
            .order_by("event_id")
            .first()
        )
        if head is None or not _claim(head.pk):
            break  # nothing left, not due yet, or another worker holds it
        sink = head.sink
        try:
            sender.send(sink.url, head.event.payload, mode=sink.mode, token=sink.token)
        except IntegrationError as exc:
            _failed(head, exc)
            break
        CDEventDelivery.objects.filter(pk=head.pk).update(
            state=CDEventDelivery.State.DELIVERED,
            delivered_at=timezone.now(),
            attempts=head.attempts + 1,
            claimed_until=None,
            last_error="",
        )
        delivered += 1
    return delivered


def _failed(delivery: CDEventDelivery, exc: IntegrationError) -> None:
    attempts = delivery.attempts + 1
    if exc.transient:
        update = {"next_attempt_at": timezone.now() + timedelta(seconds=backoff_seconds(attempts))}
    else:
        # The sink will never take this one: recorded as refused, the stream goes on.
        update = {"state": CDEventDelivery.State.REFUSED}
        logger.warning("sink %s refused %s: %s", delivery.sink_id, delivery.event_id, exc)
    CDEventDelivery.objects.filter(pk=delivery.pk).update(
        attempts=attempts, claimed_until=None, last_error=str(exc)[:500], **update
    )


def cdevents_due() -> list[tuple[int, str]]:
    """(sink, stream) pairs whose oldest pending delivery is due and not held by a worker."""
    now = timezone.now()
    pending = CDEventDelivery.objects.filter(state=CDEventDelivery.State.PENDING)
    earlier = pending.filter(
        sink=OuterRef("sink"), stream=OuterRef("stream"), event_id__lt=OuterRef("event_id")
    )
    return list(
        pending.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), next_attempt_at__lte=now
        )
        .filter(~Exists(earlier))
        .order_by("event_id")
        .values_list("sink_id", "stream")[:SWEEP_LIMIT]
    )
