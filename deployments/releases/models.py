"""Releases: a database state machine that Celery only moves forward.

Every transition is a conditional UPDATE (`Release.objects.filter(pk=..., state__in=...)`), so a
duplicate or late task changes nothing, and a worker killed mid-task leaves a row that the next
poll picks up again.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class Release(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        DISPATCHING = "dispatching", "Starting workflow"
        RUNNING_WORKFLOW = "workflow", "Workflow running"
        SYNCING = "syncing", "Argo CD syncing"
        PROGRESSING = "progressing", "Rolling out"
        PAUSED = "paused", "Paused"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        ABORTED = "aborted", "Aborted"

    class Strategy(models.TextChoices):
        ROLLING = "rolling", "Rolling update"
        CANARY = "canary", "Canary"
        BLUE_GREEN = "bluegreen", "Blue-green"

    ACTIVE_STATES = (
        State.QUEUED,
        State.DISPATCHING,
        State.RUNNING_WORKFLOW,
        State.SYNCING,
        State.PROGRESSING,
        State.PAUSED,
    )
    TERMINAL_STATES = (State.SUCCEEDED, State.FAILED, State.ABORTED)

    component = models.ForeignKey(
        "catalog.Component", on_delete=models.PROTECT, related_name="releases"
    )
    environment = models.ForeignKey(
        "catalog.Environment", on_delete=models.PROTECT, related_name="releases"
    )
    version = models.CharField(max_length=100)
    previous_version = models.CharField(max_length=100, blank=True)
    strategy = models.CharField(max_length=10, choices=Strategy.choices, default=Strategy.ROLLING)
    canary_steps = models.JSONField(
        default=list, blank=True, help_text="Traffic weights, e.g. [5, 25, 50, 100]"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="releases"
    )
    reason = models.TextField(blank=True)
    rollback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rollbacks"
    )
    is_restore = models.BooleanField(
        default=False, help_text="The last good version brought back by Restore"
    )
    # Read from GitHub once, when the workflow is started: DORA's lead time for changes runs
    # from here to the production release's finish (never fetched when a page is drawn).
    committed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the version's commit was made (GitHub)"
    )

    # What the outside world said last: workflow run, Argo CD application and its Rollout.
    workflow_run_id = models.BigIntegerField(null=True, blank=True)
    # Set just before the dispatch is sent, cleared when GitHub certainly did not get it: while
    # set, a retry looks for the run by its run-name and never dispatches again.
    dispatch_sent_at = models.DateTimeField(null=True, blank=True)
    workflow_run_url = models.URLField(blank=True, max_length=400)
    sync_status = models.CharField(max_length=20, blank=True)
    health_status = models.CharField(max_length=20, blank=True)
    rollout_phase = models.CharField(max_length=20, blank=True)
    current_step = models.PositiveSmallIntegerField(null=True, blank=True)
    set_weight = models.PositiveSmallIntegerField(null=True, blank=True)
    actual_weight = models.PositiveSmallIntegerField(null=True, blank=True)
    status_message = models.CharField(max_length=500, blank=True)
    last_error = models.TextField(blank=True)
    # Set by the first failed poll of a run of failures, cleared by a good one: polling that
    # fails for longer than RELEASE_POLL_FAIL_AFTER fails the release and frees its target.
    poll_failing_since = models.DateTimeField(null=True, blank=True)
    # The last promote / abort that Argo CD refused, shown on the page until a signal succeeds
    # (kept apart from last_error, which every good poll clears).
    signal_error = models.CharField(max_length=500, blank=True)
    observed_at = models.DateTimeField(
        null=True, blank=True, help_text="When GitHub or Argo CD was last read for this release"
    )

    # Polling bookkeeping: beat enqueues releases whose next_poll_at has come.
    attempts = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_interval = models.FloatField(default=2.0)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Two deploys of one service to one environment at once: the second is refused.
            models.UniqueConstraint(
                fields=["component", "environment"],
                condition=Q(
                    state__in=[
                        "queued",
                        "dispatching",
                        "workflow",
                        "syncing",
                        "progressing",
                        "paused",
                    ]
                ),
                name="release_one_active_per_target",
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_poll_at"]),
            models.Index(fields=["component", "environment", "-created_at"]),
            # The DORA ledger stamp (newest move and count of production releases) reads this
            # index only, instead of every release.
            models.Index(fields=["environment", "updated_at"], name="release_env_updated"),
        ]

    def __str__(self):
        return f"{self.component} {self.version} to {self.environment}"

    def get_absolute_url(self):
        return reverse("deployments:release_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @property
    def is_terminal(self) -> bool:
        return self.state in self.TERMINAL_STATES

    @property
    def run_name(self) -> str:
        """The workflow run-name, so a lost dispatch can be found again by it."""
        return (
            f"Deploy {self.component.name} {self.version} to {self.environment.name} "
            f"(release {self.pk})"
        )

    @property
    def steps(self) -> list[int]:
        if self.strategy == self.Strategy.CANARY:
            return list(self.canary_steps or [5, 25, 50, 100])
        return [100]

    @property
    def next_step_weight(self) -> int | None:
        """The traffic weight the next promotion moves to, or None when at the last step."""
        if self.current_step is None:
            return self.steps[0]
        following = self.steps[self.current_step + 1 : self.current_step + 2]
        return following[0] if following else None

    @property
    def steps_after_next(self) -> list[int]:
        """The weights after the next promotion: the rollout reaches them on its own (each
        later canary step pauses for a while, then goes on; see machine.CANARY_STEP_PAUSE)."""
        start = 1 if self.current_step is None else self.current_step + 2
        return self.steps[start:]

    @property
    def seconds_to_healthy(self) -> int | None:
        """From the click to live and healthy (a succeeded release), in whole seconds."""
        if self.state != self.State.SUCCEEDED or self.finished_at is None:
            return None
        return round((self.finished_at - self.created_at).total_seconds())

    @property
    def age_seconds(self) -> int:
        return round((timezone.now() - self.created_at).total_seconds())

    @property
    def progress_percent(self) -> int:
        if self.state == self.State.SUCCEEDED:
            return 100
        return int(self.actual_weight or self.set_weight or 0)


class TimelineEvent(models.Model):
    """One line of a timeline (a release's, a train's): the state it entered or kept, in order.

    A concrete timeline adds the foreign key to what it is the timeline of, and `state` with
    that machine's choices."""

    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=12)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.subject_id} {self.state}: {self.message}"

    @property
    def subject_id(self):
        return getattr(self, f"{self.SUBJECT}_id")


class ReleaseEvent(TimelineEvent):
    """One line of a release's timeline."""

    SUBJECT = "release"
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="events")
    state = models.CharField(max_length=12, choices=Release.State.choices)


class DeployFreeze(models.Model):
    """A window in which releases to an environment (optionally one component) are blocked."""

    environment = models.ForeignKey(
        "catalog.Environment", on_delete=models.CASCADE, related_name="freezes"
    )
    component = models.ForeignKey(
        "catalog.Component", null=True, blank=True, on_delete=models.CASCADE, related_name="freezes"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="freeze_ends_after_start"
            )
        ]

    def __str__(self):
        scope = self.component or "all components"
        return f"Freeze of {scope} in {self.environment}: {self.reason}"
