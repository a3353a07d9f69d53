"""Knobs and runtime tuning: the platform team's guardrails, people's knob changes, runtime keys
and values, and the per-service runtime tokens."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .knobs import KNOBS


class ControlPolicy(models.Model):
    """Which Kubernetes knobs exist for a component in an environment, their limits, and who may
    turn them. A policy without a component is the default for its environment; a component's own
    policy replaces that default entirely. No policy, or a knob switched off: no knob."""

    class Role(models.TextChoices):
        OWNER_TEAM = "owner_team", "Owning team (members and leads)"
        OWNER_LEAD = "owner_lead", "Owning team leads"
        SRE = "sre", "SREs"
        OTHER_TEAMS = "other_teams", "Engineers of other teams"

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
    cpu_request_enabled = models.BooleanField("CPU request changes allowed", default=False)
    cpu_request_min = models.PositiveIntegerField("CPU request from (millicores)", default=100)
    cpu_request_max = models.PositiveIntegerField("CPU request to (millicores)", default=2000)
    cpu_request_roles = models.JSONField("who may change the CPU request", default=list, blank=True)
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
            models.CheckConstraint(
                condition=Q(cpu_request_min__lte=models.F("cpu_request_max")),
                name="control_policy_cpu_request_range",
            ),
        ]

    def __str__(self):
        scope = self.component or "default"
        return f"Controls of {scope} in {self.environment}"

    def knob_enabled(self, prefix: str) -> bool:
        """`prefix`: a knob's `policy_prefix` (its guardrail columns)."""
        return bool(getattr(self, f"{prefix}_enabled"))

    def knob_roles(self, prefix: str) -> list[str]:
        return list(getattr(self, f"{prefix}_roles") or [])


class ControlAction(models.Model):
    """One person's request to turn a knob, and what Kubernetes did with it."""

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
    kind = models.CharField(max_length=20, help_text="The knob's name (controls/knobs/).")
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
        return f"{self.kind_label} of {self.component} in {self.environment}"

    @property
    def kind_label(self) -> str:
        knob = KNOBS.get(self.kind)
        return knob.label if knob else self.kind

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
