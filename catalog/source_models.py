"""Catalog sources (kept in sync by beat) and where each entity came from (for orphans).

Imported by catalog/models.py: these are catalog models, kept apart only for module size.
"""

from django.db import models
from django.db.models import Q


class CatalogSource(models.Model):
    """One configured source of entities: a running Backstage, a GitHub organisation ...

    `kind` names a class in the source registry (catalog/sources); `config` is what that class
    reads. The last run's figures live on the row, so the admin page shows them (and the progress
    of a run) without another table. `state` moves idle -> queued -> running -> idle only by
    conditional updates, so a sync delivered twice runs once.
    """

    class State(models.TextChoices):
        IDLE = "idle"
        QUEUED = "queued"
        RUNNING = "running"

    class Outcome(models.TextChoices):
        NONE = "", "never run"
        OK = "ok"
        FAILED = "failed"

    name = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=40)
    config = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    interval_seconds = models.PositiveIntegerField(default=300)
    state = models.CharField(max_length=8, choices=State.choices, default=State.IDLE)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, blank=True)
    message = models.TextField(blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)  # per entity: file, line, message
    # What a source keeps between runs to ask for less (ETags of GitHub responses ...).
    cache = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def machine_identity(self) -> str:
        """The actor of every change this source makes, in the audit log."""
        return f"source:{self.kind}/{self.name}"


class EntityOrigin(models.Model):
    """The source an entity came from; `orphaned_at` once it disappeared from that source."""

    entity = models.CharField(max_length=200, unique=True)  # kind:namespace/name, lower case
    source = models.ForeignKey(CatalogSource, on_delete=models.CASCADE, related_name="origins")
    seen_at = models.DateTimeField()
    orphaned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["entity"]
        indexes = [
            models.Index(
                fields=["source", "entity"],
                condition=Q(orphaned_at__isnull=False),
                name="entity_origin_orphans",
            )
        ]

    def __str__(self):
        return f"{self.entity} from {self.source}"
