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

    # What the outside world said last: workflow run, Argo CD application and its Rollout.
    workflow_run_id = models.BigIntegerField(null=True, blank=True)
    workflow_run_url = models.URLField(blank=True, max_length=400)
    sync_status = models.CharField(max_length=20, blank=True)
    health_status = models.CharField(max_length=20, blank=True)
    rollout_phase = models.CharField(max_length=20, blank=True)
    current_step = models.PositiveSmallIntegerField(null=True, blank=True)
    set_weight = models.PositiveSmallIntegerField(null=True, blank=True)
    actual_weight = models.PositiveSmallIntegerField(null=True, blank=True)
    status_message = models.CharField(max_length=500, blank=True)
    last_error = models.TextField(blank=True)
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
    def progress_percent(self) -> int:
        if self.state == self.State.SUCCEEDED:
            return 100
        return int(self.actual_weight or self.set_weight or 0)


class ReleaseEvent(models.Model):
    """One line of a release's timeline."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=12, choices=Release.State.choices)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.release_id} {self.state}: {self.message}"


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


# -- Guardrails and controls (issue 5) -------------------------------------------------------


class ControlPolicy(models.Model):
    """Which Kubernetes knobs exist for a component in an environment, their limits, and who may
    turn them. A policy without a component is the default for its environment; a component's own
    policy replaces that default entirely. No policy, or a knob switched off: no knob."""

    class Role(models.TextChoices):
        OWNER_TEAM = "owner_team", "Owning team (members and leads)"
        OWNER_LEAD = "owner_lead", "Owning team leads"
        SRE = "sre", "SREs"
        OTHER_TEAMS = "other_teams", "Engineers of other teams"

    KNOBS = ("replicas", "hpa", "restart")

    environment = models.ForeignKey(
        "catalog.Environment", on_delete=models.CASCADE, related_name="control_policies"
    )
    component = models.ForeignKey(
        "catalog.Component",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="control_policies",
        help_text="Empty: the default for every component of the environment without its own.",
    )
    replicas_enabled = models.BooleanField("scaling allowed", default=False)
    replicas_min = models.PositiveSmallIntegerField(default=1)
    replicas_max = models.PositiveSmallIntegerField(default=10)
    replicas_roles = models.JSONField("who may scale", default=list, blank=True)
    hpa_enabled = models.BooleanField("autoscaler changes allowed", default=False)
    hpa_min_from = models.PositiveSmallIntegerField("HPA minReplicas from", default=1)
    hpa_min_to = models.PositiveSmallIntegerField("HPA minReplicas to", default=5)
    hpa_max_from = models.PositiveSmallIntegerField("HPA maxReplicas from", default=2)
    hpa_max_to = models.PositiveSmallIntegerField("HPA maxReplicas to", default=20)
    cpu_from = models.PositiveSmallIntegerField("target CPU % from", default=40)
    cpu_to = models.PositiveSmallIntegerField("target CPU % to", default=90)
    hpa_roles = models.JSONField("who may change the autoscaler", default=list, blank=True)
    restart_enabled = models.BooleanField("restart allowed", default=False)
    restart_roles = models.JSONField("who may restart", default=list, blank=True)
    argocd_auto_sync = models.BooleanField(
        "Argo CD self-heal is on",
        default=False,
        help_text="Argo CD auto-sync with self-heal reverts manual changes to replicas and the "
        "autoscaler at its next sync. Switchyard's Argo CD adapter does not read the sync policy, "
        "so declare it here; people are warned before they act.",
    )
    note = models.CharField(max_length=300, blank=True, help_text="Shown next to the controls.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "control policies"
        ordering = ["environment__order", "component__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "component"],
                condition=Q(component__isnull=False),
                name="control_policy_one_per_target",
            ),
            models.UniqueConstraint(
                fields=["environment"],
                condition=Q(component__isnull=True),
                name="control_policy_one_default_per_env",
            ),
            models.CheckConstraint(
                condition=Q(replicas_min__lte=models.F("replicas_max")),
                name="control_policy_replicas_range",
            ),
            models.CheckConstraint(
                condition=Q(hpa_min_from__lte=models.F("hpa_min_to"))
                & Q(hpa_max_from__lte=models.F("hpa_max_to"))
                & Q(cpu_from__lte=models.F("cpu_to"))
                & Q(hpa_min_from__gte=1)
                & Q(cpu_to__lte=100),
                name="control_policy_hpa_ranges",
            ),
        ]

    def __str__(self):
        scope = self.component or "default"
        return f"Controls of {scope} in {self.environment}"

    def knob_enabled(self, knob: str) -> bool:
        return bool(getattr(self, f"{knob}_enabled"))

    def knob_roles(self, knob: str) -> list[str]:
        return list(getattr(self, f"{knob}_roles") or [])


class ControlAction(models.Model):
    """One person's request to turn a knob, and what Kubernetes did with it."""

    class Kind(models.TextChoices):
        SCALE = "scale", "Scale"
        HPA = "hpa", "Autoscaler change"
        RESTART = "restart", "Restart"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        APPLYING = "applying", "Applying"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused"

    component = models.ForeignKey(
        "catalog.Component", on_delete=models.CASCADE, related_name="control_actions"
    )
    environment = models.ForeignKey(
        "catalog.Environment", on_delete=models.CASCADE, related_name="control_actions"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    params = models.JSONField(default=dict, blank=True)
    before = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    message = models.CharField(max_length=500, blank=True)
    reason = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["component", "environment", "-created_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.component} in {self.environment}"

    @property
    def is_finished(self) -> bool:
        return self.state not in (self.State.QUEUED, self.State.APPLYING)


class TuningKey(models.Model):
    """A runtime setting a component reads from its `<deployment>-runtime` ConfigMap."""

    class Kind(models.TextChoices):
        SAMPLING = "sampling", "Log sampling rate (0–1)"
        TOGGLE = "toggle", "Feature toggle"
        STRING = "string", "Text"
        INT = "int", "Whole number"
        FLOAT = "float", "Number"
        BOOL = "bool", "Yes / no"
        JSON = "json", "JSON"

    component = models.ForeignKey(
        "catalog.Component", on_delete=models.CASCADE, related_name="tuning_keys"
    )
    key = models.CharField(
        max_length=120, help_text="The ConfigMap key, e.g. LOG_SAMPLING_RATE or feature.new-cart"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    default = models.JSONField(help_text='Used wherever no value is set (JSON: 0.1, true, "x")')
    description = models.CharField(max_length=300, blank=True)
    minimum = models.FloatField(null=True, blank=True, help_text="Numbers only")
    maximum = models.FloatField(null=True, blank=True, help_text="Numbers only")

    class Meta:
        ordering = ["component__name", "kind", "key"]
        constraints = [
            models.UniqueConstraint(fields=["component", "key"], name="tuning_key_unique")
        ]

    def __str__(self):
        return f"{self.component}: {self.key}"


class TuningValue(models.Model):
    """A key's value in one environment, and a temporary override of it with its expiry."""

    key = models.ForeignKey(TuningKey, on_delete=models.CASCADE, related_name="values")
    environment = models.ForeignKey(
        "catalog.Environment", on_delete=models.CASCADE, related_name="tuning_values"
    )
    value = models.JSONField(null=True, blank=True)  # None: the key's default
    override_value = models.JSONField(null=True, blank=True)
    override_until = models.DateTimeField(null=True, blank=True, db_index=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pushed_at = models.DateTimeField(null=True, blank=True)
    push_error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "environment"], name="tuning_value_unique")
        ]

    def __str__(self):
        return f"{self.key} in {self.environment}"

    @property
    def component(self):
        return self.key.component

    @property
    def has_override(self) -> bool:
        return self.override_until is not None

    @property
    def base(self):
        return self.key.default if self.value is None else self.value

    @property
    def effective(self):
        return self.override_value if self.has_override else self.base


class RuntimeToken(models.Model):
    """A component's read-only token for its runtime JSON endpoint; only its hash is kept."""

    component = models.OneToOneField(
        "catalog.Component", on_delete=models.CASCADE, related_name="runtime_token"
    )
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Runtime token of {self.component}"
