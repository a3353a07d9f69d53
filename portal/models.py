from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker ran the beat-scheduled heartbeat task.

    The dashboard and /healthz read it to tell whether background work is actually moving.
    """

    hostname = models.CharField(max_length=255, unique=True)
    last_seen = models.DateTimeField(default=timezone.now)
    beats = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self):
        return f"{self.hostname} at {self.last_seen:%Y-%m-%d %H:%M:%S}"

    @property
    def age_seconds(self) -> float:
        return (timezone.now() - self.last_seen).total_seconds()

    @property
    def is_fresh(self) -> bool:
        # Beat sends one every 30 s; two missed beats means the worker or beat is gone.
        return self.age_seconds < 75
