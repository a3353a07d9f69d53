"""Writes owned by the portal app itself."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import WorkerHeartbeat


def heartbeat_record(*, hostname: str) -> WorkerHeartbeat:
    """Record that the worker on `hostname` is alive (machine action: no user, no audit row)."""
    with transaction.atomic():
        beat, created = WorkerHeartbeat.objects.select_for_update().get_or_create(
            hostname=hostname, defaults={"beats": 1}
        )
        if not created:
            WorkerHeartbeat.objects.filter(pk=beat.pk).update(
                last_seen=timezone.now(), beats=F("beats") + 1
            )
            beat.refresh_from_db()
    return beat
