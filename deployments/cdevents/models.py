"""The CDEvents outbox: sinks, events (written in the transaction of the transition they tell)
and one delivery row per event and sink, which only Celery moves forward."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class EventSink(models.Model):
    """Where CDEvents go: an HTTP endpoint that accepts CloudEvents."""

    class Mode(models.TextChoices):
        BINARY = "binary", "Binary (ce-* headers, the CDEvent as the body)"
        STRUCTURED = "structured", "Structured (application/cloudevents+json)"

    name = models.SlugField(max_length=60, unique=True)
    url = models.URLField(
        max_length=400,
        blank=True,
        help_text="Blank: the CDEVENTS_URL setting, else the sandbox's sink (development)",
    )
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.BINARY)
    enabled = models.BooleanField(
        default=True, help_text="Events are queued for enabled sinks only, from now on"
    )
    token = models.CharField(
        max_length=200, blank=True, help_text="Sent as a bearer token, when the sink wants one"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class CDEvent(models.Model):
    """One CDEvent, written with the transition it tells. `stream` orders delivery: a sink
    receives the events of one stream (a release, an incident) in the order they were made."""

    event_id = models.UUIDField(unique=True)
    stream = models.CharField(max_length=80)  # "release:42", "incident:PABC123"
    type = models.CharField(max_length=80)  # dev.cdevents.service.deployed.0.3.0
    release = models.ForeignKey(
        "deployments.Release",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cdevents",
    )
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["stream", "id"])]

    def __str__(self):
        return f"{self.type} ({self.stream})"


class CDEventDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        REFUSED = "refused", "Refused by the sink"

    event = models.ForeignKey(CDEvent, on_delete=models.CASCADE, related_name="deliveries")
    sink = models.ForeignKey(EventSink, on_delete=models.CASCADE, related_name="deliveries")
    stream = models.CharField(max_length=80)  # the event's, so that one index orders a sink's
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Set while a worker sends it: another worker (a duplicate task) leaves it alone until then.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["event_id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "sink"], name="cdevent_delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["sink", "stream", "event"],
                condition=Q(state="pending"),
                name="cdevent_delivery_pending",
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="cdevent_delivery_due",
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.sink}: {self.state}"
