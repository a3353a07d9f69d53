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
