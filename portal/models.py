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
    breaks the chain from there on (`manage.py audit_verify` names every broken link).
    The hash is an HMAC under AUDIT_HMAC_KEY over the canonical form in `portal.audit_chain`.
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
        permissions = [("export_auditevent", "Can export audit events as JSON Lines")]

    def __str__(self):
        return (
            f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} ({self.outcome})"
        )


class AuditCheckpoint(models.Model):
    """A signed statement "the chain had `count` events up to `head_id`, which hashed to
    `head_hash`", written by beat and by every export (see docs/security.md).

    Kept outside the database too (the log line, the export's last line), it shows when the
    newest events were removed, which a hash chain alone cannot.
    """

    created_at = models.DateTimeField(default=timezone.now)
    count = models.PositiveBigIntegerField()
    head_id = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S}: {self.count} events up to {self.head_id}"


class PlatformRole(models.TextChoices):
    """Platform-wide roles; each is a Django auth group of the same name (see portal/rules.py)."""

    SRE = "sre", "SRE"
    PLATFORM_ADMIN = "platform-admin", "Platform admin"
    VIEWER = "viewer", "Viewer (PM, read-only)"


class SsoGroupMapping(models.Model):
    """One SSO group (from the identity provider's groups claim) grants a team role or a platform
    role. Managed by platform admins in the admin; applied on every SSO login."""

    group = models.CharField(
        max_length=200, db_index=True, help_text="Group name exactly as the groups claim has it"
    )
    team = models.ForeignKey(
        "catalog.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sso_mappings",
    )
    team_role = models.CharField(
        max_length=8, choices=TeamMembership.Role.choices, default=TeamMembership.Role.MEMBER
    )
    platform_role = models.CharField(max_length=20, choices=PlatformRole.choices, blank=True)

    class Meta:
        ordering = ["group"]
        verbose_name = "SSO group mapping"
        constraints = [
            models.CheckConstraint(
                condition=(
                    (models.Q(team__isnull=False) & models.Q(platform_role=""))
                    | (models.Q(team__isnull=True) & ~models.Q(platform_role=""))
                ),
                name="sso_mapping_team_xor_platform_role",
                violation_error_message="Map the group either to a team or to a platform role.",
            ),
            models.UniqueConstraint(
                fields=["group", "team"],
                condition=models.Q(team__isnull=False),
                name="sso_mapping_unique_team",
            ),
            models.UniqueConstraint(
                fields=["group", "platform_role"],
                condition=~models.Q(platform_role=""),
                name="sso_mapping_unique_platform_role",
            ),
        ]

    def __str__(self):
        if self.team_id:
            return f"{self.group} → {self.team} ({self.get_team_role_display()})"
        return f"{self.group} → {self.get_platform_role_display()}"


class SsoRoleGrant(models.Model):
    """Remembers that a platform role group was granted by SSO (not by hand), so that it can be
    taken away again when the group leaves the claim."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_role_grants"
    )
    role = models.CharField(max_length=20, choices=PlatformRole.choices)
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="sso_role_grant_unique")
        ]

    def __str__(self):
        return f"{self.user} is {self.role} (from SSO)"
