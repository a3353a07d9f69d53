"""approvals rows of the RBAC matrix (format: portal/tests/rbac_world.py)."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalRequest


def _approval(w):
    # The owner team member asked for it: they may not approve their own request.
    w.extra["approval"] = ApprovalRequest.objects.create(
        component=w.component,
        environment=w.production,
        rollout_phase="canary 5% verified",
        requested_by=w.users["owner_member"],
        requester_label="owner_member",
        expires_at=timezone.now() + timedelta(minutes=30),
    )


RBAC_CASES = [
    {
        "url_name": "approvals:approval_decide",
        "url": lambda w: reverse("approvals:approval_decide", args=[w.extra["approval"].pk]),
        "data": lambda w: {"decision": "approve", "comment": "error rates flat"},
        "setup": _approval,
        "allowed": {"owner_lead", "sre"},
    },
]
