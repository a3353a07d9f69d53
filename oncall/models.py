"""The incident gate: an option of an environment's approval policy, and SREs' overrides."""

from django.conf import settings
from django.db import models


class IncidentGate(models.Model):
    """Per environment: no promotion while a high-urgency PagerDuty incident is open on the
    service or on a direct dependency (an SRE may override one request, with a reason)."""

    environment = models.OneToOneField(
        "catalog.Environment", on_delete=models.CASCADE, related_name="incident_gate"
    )
    enabled = models.BooleanField(
        default=True,
        help_text="Block approvals and promotions while a high-urgency incident is open on the "
        "service or a direct dependency",
    )

    def __str__(self):
        return f"{self.environment}: incident gate {'on' if self.enabled else 'off'}"


class IncidentGateOverride(models.Model):
    """An SRE let one approval request through the gate; the reason is audited too."""

    approval = models.OneToOneField(
        "approvals.ApprovalRequest", on_delete=models.CASCADE, related_name="incident_override"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    reason = models.TextField()
    incidents = models.JSONField(default=list)  # what was open when the SRE overrode
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"override of approval {self.approval_id} by {self.actor}"


class Incident(models.Model):
    """A PagerDuty incident on a component's service, recorded when beat first sees it: the
    release ledger's DORA change failure rate asks whether one followed a production release,
    and its detection is emitted as a CDEvent. PagerDuty stays the source; this is our copy."""

    pagerduty_id = models.CharField(max_length=40, unique=True)
    component = models.ForeignKey(
        "catalog.Component", on_delete=models.CASCADE, related_name="incidents"
    )
    number = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=300)
    urgency = models.CharField(max_length=10)  # high, low
    status = models.CharField(max_length=20)  # triggered, acknowledged, resolved
    created_at = models.DateTimeField(help_text="When PagerDuty opened it")
    url = models.URLField(max_length=400, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["component", "created_at"])]

    def __str__(self):
        return f"#{self.number} {self.title} ({self.urgency})"

    @property
    def high(self) -> bool:
        return self.urgency == "high"


class ChangeEvent(models.Model):
    """The outbox of PagerDuty change events: a release's start or finish, written in the
    transaction of its transition, sent by Celery afterwards (retried while PagerDuty is down,
    picked up again by beat if a worker died). One row per release and announced state, and a
    conditional claim, so a duplicate or late task sends nothing twice; the release never
    waits on it."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="change_events"
    )
    announced = models.CharField(max_length=20)  # the release state: dispatching, succeeded...
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "announced"], name="change_event_once")
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="change_event_due")]

    def __str__(self):
        return f"change event {self.announced} of release {self.release_id}: {self.state}"
