from django.conf import settings
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


class TeamMembership(models.Model):
    """A person (login) belongs to a catalog team, as member or lead.

    SSO logins keep `source="sso"` rows in step with the groups claim; manual rows are left alone.
    """

    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        LEAD = "lead", "Team lead"

    class Source(models.TextChoices):
        MANUAL = "manual", "Set by hand"
        SSO = "sso", "From SSO groups"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    team = models.ForeignKey("catalog.Team", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MEMBER)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="team_membership_unique")
        ]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.role})"


class AuditEvent(models.Model):
    """One append-only, hash-chained record of something done (or refused) in Switchyard.

    Written only by `portal.audit.audit_record`, in the same transaction as the change it records.
    `entry_hash` covers this row's content and `previous_hash`, so editing or deleting any row
    breaks the chain from there on (`manage.py audit_verify` names the first broken link).
    """

    class Outcome(models.TextChoices):
        DONE = "done"
        DENIED = "denied"
        FAILED = "failed"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    # Who it was as text too: a machine identity ("workflow:payments-deploy") or a username kept
    # even if the user row is later renamed.
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=100, db_index=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.DONE)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    component = models.ForeignKey(
        "catalog.Component",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    environment = models.CharField(max_length=60, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["component", "-id"]), models.Index(fields=["actor", "-id"])]

    def __str__(self):
        return (
            f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} ({self.outcome})"
        )
