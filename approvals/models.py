"""Approvals: the human gate a workflow or rollout waits on, as a database state machine."""

import hashlib

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class MachineClient(models.Model):
    """A workflow or automation allowed to call the machine API, for some components and
    environments.

    It authenticates with a bearer token (only its SHA-256 is stored) and signs every request
    with HMAC-SHA256 (v2: method, path, delivery id, timestamp, body hash) using
    `signing_secret`.
    """

    name = models.SlugField(max_length=100, unique=True)
    token_sha256 = models.CharField(max_length=64, unique=True)
    signing_secret = models.CharField(max_length=128)
    environments = models.ManyToManyField("catalog.Environment", related_name="machine_clients")
    components = models.ManyToManyField(
        "catalog.Component",
        related_name="machine_clients",
        blank=True,
        help_text="The services this client may ask approvals for.",
    )
    all_components = models.BooleanField(
        default=False,
        help_text="May ask for any service (a shared release pipeline); otherwise only the "
        "components listed.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def may_post_for(self, component) -> bool:
        return self.all_components or self.components.filter(pk=component.pk).exists()

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class SeenDelivery(models.Model):
    """Delivery ids already accepted, kept for the replay window, so a replayed call is refused."""

    client = models.ForeignKey(MachineClient, on_delete=models.CASCADE)
    delivery_id = models.CharField(max_length=100)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "delivery_id"], name="delivery_once")
        ]


class ApprovalPolicy(models.Model):
    """Per environment, set by the platform team: how many approvals, and what expiry does."""

    class OnExpiry(models.TextChoices):
        ABORT = "abort", "Abort the release"
        STAY_PAUSED = "stay-paused", "Leave the rollout paused"

    class Approvers(models.TextChoices):
        TEAM = "team", "Members of the owning team and SREs"
        LEADS = "leads", "Leads of the owning team and SREs"

    environment = models.OneToOneField(
        "catalog.Environment", on_delete=models.CASCADE, related_name="approval_policy"
    )
    approvers = models.CharField(
        max_length=8,
        choices=Approvers.choices,
        default=Approvers.TEAM,
        help_text="Who is eligible to approve. The requester never is.",
    )

    class TrainApprovals(models.TextChoices):
        WAVE = "wave", "One per wave and owning team"
        TRAIN = "train", "One for the whole train (each owning team approves its part)"
        EITHER = "either", "Whoever plans the train chooses"

    quorum = models.PositiveSmallIntegerField(default=1, help_text="Approvals needed")
    train_approvals = models.CharField(
        max_length=8,
        choices=TrainApprovals.choices,
        default=TrainApprovals.WAVE,
        help_text="How a release train is approved here. Each owning team approves its own "
        "services; the canary pause of a train's release then takes that decision.",
    )
    on_expiry = models.CharField(max_length=12, choices=OnExpiry.choices, default=OnExpiry.ABORT)
    default_ttl_minutes = models.PositiveIntegerField(default=60)

    class Meta:
        verbose_name_plural = "approval policies"

    def __str__(self):
        return f"{self.environment}: {self.quorum} approval(s), on expiry {self.on_expiry}"


class ApprovalRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        APPROVED = "approved", "Approved"
        ABORTED = "aborted", "Aborted"
        EXPIRED = "expired", "Expired"

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approve"
        PROMOTE_FULL = "promote-full", "Promote fully"
        ABORT = "abort", "Abort"
        BREAK_GLASS = "break-glass", "Break-glass override"

    class SignalState(models.TextChoices):
        NONE = "none", "Nothing to send yet"
        PENDING = "pending", "To send"
        HELD = "held", "Held until the rollout pauses at this step"
        SENDING = "sending", "Sending now"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed, retrying"
        GAVE_UP = "gave-up", "Failed"
        SKIPPED = "skipped", "Not sent: the release had moved on"

    component = models.ForeignKey(
        "catalog.Component", on_delete=models.PROTECT, related_name="approval_requests"
    )
    environment = models.ForeignKey(
        "catalog.Environment", on_delete=models.PROTECT, related_name="approval_requests"
    )
    release = models.ForeignKey(
        "deployments.Release",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="approval_requests",
    )
    client = models.ForeignKey(MachineClient, null=True, on_delete=models.PROTECT)
    rollout_phase = models.CharField(max_length=200, help_text='e.g. "canary 5% verified"')
    weight = models.PositiveSmallIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="approval_requests",
    )
    requester_label = models.CharField(max_length=200)
    from_version = models.CharField(max_length=100, blank=True)
    to_version = models.CharField(max_length=100, blank=True)
    workflow_run_url = models.URLField(blank=True, max_length=400)
    # How to tell the waiting side: {"github": {"repo", "run_id", "environment_name"},
    #  "rollout": {"application"}}
    signal = models.JSONField(default=dict, blank=True)
    quorum = models.PositiveSmallIntegerField(default=1)
    approvers = models.CharField(max_length=8, default=ApprovalPolicy.Approvers.TEAM)
    on_expiry = models.CharField(max_length=12, default=ApprovalPolicy.OnExpiry.ABORT)
    expires_at = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    decision = models.CharField(max_length=12, choices=Decision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval_decisions",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    signal_state = models.CharField(
        max_length=8, choices=SignalState.choices, default=SignalState.NONE
    )
    signal_attempts = models.PositiveSmallIntegerField(default=0)
    signal_error = models.TextField(blank=True)
    # Parts of the signal already delivered ("rollout", "github"): a retry after a partial
    # failure sends only the rest, so a Rollout is never resumed twice by one decision.
    signal_sent = models.JSONField(default=list, blank=True)
    # When a worker took the signal: a claim older than a few minutes belonged to a dead worker.
    signal_claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "expires_at"])]
        constraints = [
            # A release waits at one pause at a time: one open request per release (and so per
            # release and phase). A second post for it is refused, not queued beside the first.
            models.UniqueConstraint(
                fields=["release"],
                condition=models.Q(state="pending", release__isnull=False),
                name="one_open_approval_per_release",
            )
        ]

    def __str__(self):
        return f"{self.component} to {self.environment}: {self.rollout_phase}"

    def get_absolute_url(self):
        return reverse("approvals:approval_detail", args=[self.pk])

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING and self.expires_at > timezone.now()

    @property
    def seconds_left(self) -> int:
        return max(0, int((self.expires_at - timezone.now()).total_seconds()))


class ApprovalVote(models.Model):
    """One person's approval toward a quorum; the request is decided when enough agree."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "user"], name="one_vote_per_person")
        ]
