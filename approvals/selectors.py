from django.db.models import Q, QuerySet

from portal.rules import is_sre

from .models import ApprovalRequest


def approvals_decidable_by(user) -> QuerySet[ApprovalRequest]:
    """Pending requests `user` may decide: owning team's (or all, for SREs), not their own;
    under a `leads` policy only a lead of the owning team (or an SRE).

    Mirrors the `approvals.decide_approvalrequest` rule; tested against it.
    """
    pending = ApprovalRequest.objects.filter(state="pending").exclude(requested_by=user)
    if not is_sre(user):
        pending = pending.filter(Q(component__owner__memberships__user=user)).filter(
            Q(approvers="team")
            | Q(
                component__owner__memberships__user=user,
                component__owner__memberships__role="lead",
            )
        )
    return pending.select_related("component__owner", "environment", "requested_by").distinct()


def approval_decided_via(approval: ApprovalRequest) -> str:
    """Where the decision of `approval` was made when not on the portal's pages ("slack"),
    as its audit row recorded it; "" otherwise."""
    from portal.models import AuditEvent

    after = (
        AuditEvent.objects.filter(
            target_type="approvals.approvalrequest",
            target_id=str(approval.pk),
            action__in=["approval.decide", "approval.break_glass"],
            outcome="done",
        )  # fmt: skip
        .values_list("after", flat=True)
        .first()
    )
    return str(after.get("channel", "")) if isinstance(after, dict) else ""
