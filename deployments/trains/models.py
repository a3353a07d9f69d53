"""Trains: several (component, version) released to one environment together, wave by wave.

A train is a state machine like a release: every transition is a conditional UPDATE, so a
duplicate or late task changes nothing. Its services are released through the release service
(`release_start`), never around it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from ..releases.models import TimelineEvent


class Train(models.Model):
    class State(models.TextChoices):
        PLANNING = "planning", "Planning"
        RUNNING = "running", "Running"
        ROLLING_BACK = "rollingback", "Rolling back"
        SUCCEEDED = "succeeded", "Succeeded"
        ROLLED_BACK = "rolledback", "Rolled back"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATES = (State.RUNNING, State.ROLLING_BACK)
    TERMINAL_STATES = (State.SUCCEEDED, State.ROLLED_BACK, State.CANCELLED)

    environment = models.ForeignKey(
        "catalog.Environment", on_delete=models.PROTECT, related_name="trains"
    )
    title = models.CharField(max_length=200)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PLANNING)
    respect_event = models.BooleanField(
        default=False, help_text="Order by event-driven edges too (producer before consumer)"
    )
    respect_data = models.BooleanField(
        default=False, help_text="Order by data edges too (owner of the store before readers)"
    )

    class ApprovalMode(models.TextChoices):
        NONE = "", "No approvals (the environment has no approval policy)"
        TRAIN = "train", "One for the train"
        WAVE = "wave", "One per wave and owning team"

    strategy = models.CharField(max_length=10, default="canary")
    approval_mode = models.CharField(
        max_length=5,
        choices=ApprovalMode.choices,
        default=ApprovalMode.NONE,
        blank=True,
        help_text="From the environment's approval policy and the train's choice",
    )
    current_wave = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="trains"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trains_started",
    )
    reason = models.TextField(blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment"],
                condition=Q(state__in=["running", "rollingback"]),
                name="train_one_active_per_environment",
            )
        ]

    def __str__(self):
        return f"{self.title} to {self.environment}"

    def get_absolute_url(self):
        return reverse("deployments:train_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @property
    def is_terminal(self) -> bool:
        return self.state in self.TERMINAL_STATES

    @property
    def edge_kinds(self) -> tuple[str, ...]:
        return tuple(
            kind for kind, on in (("event", self.respect_event), ("data", self.respect_data)) if on
        )


class TrainService(models.Model):
    """One (component, version) of a train, its wave and what was done to it."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        STARTING = "starting", "Starting"
        RELEASING = "releasing", "Releasing"
        SUCCEEDED = "succeeded", "Released"
        FAILED = "failed", "Failed"
        ABORTING = "aborting", "Aborting"
        ABORTED = "aborted", "Aborted"
        RESTORING = "restoring", "Restoring"
        RESTORED = "restored", "Restored"
        NOT_RUN = "notrun", "Not run"

    train = models.ForeignKey(Train, on_delete=models.CASCADE, related_name="services")
    component = models.ForeignKey(
        "catalog.Component", on_delete=models.PROTECT, related_name="train_services"
    )
    version = models.CharField(max_length=100)
    wave = models.PositiveSmallIntegerField(default=0, help_text="0-based, from the plan")
    pin = models.PositiveSmallIntegerField(
        default=0, help_text="Earliest wave asked for (a move); the plan may put it later"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    release = models.ForeignKey(
        "deployments.Release", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    restore_release = models.ForeignKey(
        "deployments.Release", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.CharField(max_length=500, blank=True)
    changed_at = models.DateTimeField(default=timezone.now, help_text="Last state change")

    class Meta:
        ordering = ["wave", "component__name"]
        constraints = [
            models.UniqueConstraint(fields=["train", "component"], name="train_service_unique")
        ]

    def __str__(self):
        return f"{self.component} {self.version} (wave {self.wave + 1})"


class TrainEvent(TimelineEvent):
    """One line of a train's timeline (including what was undone, in order)."""

    SUBJECT = "train"
    train = models.ForeignKey(Train, on_delete=models.CASCADE, related_name="events")
    state = models.CharField(max_length=12, choices=Train.State.choices)


class TrainApproval(models.Model):
    """One owning team's approval of its part of a train: of the whole train (`wave` empty) or
    of one wave. Asked by the environment's approval policy, or because whoever started the
    train may not release that team's services (then the team's approval lets the train
    release them). Decided by that team's eligible people or SREs, never the train's starter."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        CLOSED = "closed", "Not needed any more"

    class Why(models.TextChoices):
        POLICY = "policy", "The environment's approval policy"
        PERMISSION = "permission", "The starter may not release these services"

    train = models.ForeignKey(Train, on_delete=models.CASCADE, related_name="approvals")
    team = models.ForeignKey("catalog.Team", on_delete=models.PROTECT, related_name="+")
    wave = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: all")
    why = models.CharField(max_length=10, choices=Why.choices, default=Why.POLICY)
    approvers = models.CharField(max_length=8, default="team", help_text="team or leads")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="train_approvals",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ttl_minutes = models.PositiveIntegerField(
        default=60, help_text="The policy's time to decide, counted from when it is asked"
    )
    on_expiry = models.CharField(
        max_length=12, default="abort", help_text="abort (roll back) or stay-paused (wait)"
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when its wave (or the train) starts waiting on it"
    )

    class Meta:
        ordering = ["wave", "team__name"]
        indexes = [models.Index(fields=["state", "expires_at"], name="train_part_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["train", "team", "wave"],
                condition=Q(wave__isnull=False),
                name="train_approval_one_per_wave_and_team",
            ),
            models.UniqueConstraint(
                fields=["train", "team"],
                condition=Q(wave__isnull=True),
                name="train_approval_one_per_team",
            ),
        ]

    def __str__(self):
        scope = "the train" if self.wave is None else f"wave {self.wave + 1}"
        return f"{self.team} for {scope} of {self.train.title}"

    @property
    def is_open(self) -> bool:
        """Still takes a decision: pending and not past its expiry."""
        return self.state == self.State.PENDING and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    @property
    def scope(self) -> str:
        return "the whole train" if self.wave is None else f"wave {self.wave + 1}"

    def covers(self, service: "TrainService") -> bool:
        """This part is the approval of `service` (its team's, for the train or its wave)."""
        owner = service.component.owner_id
        return owner == self.team_id and self.wave in (None, service.wave)
