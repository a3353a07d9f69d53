import rules
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from portal.audit import AuditContext
from portal.decorators import mutating
from portal.errors import PortalError
from portal.http import safe_next
from portal.panels import APPROVAL, panels_for

from . import services
from .models import ApprovalRequest
from .selectors import approval_decided_via, approvals_decidable_by


def approval_inbox(request):
    """What waits for the signed-in person, and what was decided lately."""
    recent = ApprovalRequest.objects.exclude(state="pending").select_related(
        "component", "environment", "decided_by"
    )[:20]
    return render(
        request,
        "approvals/approval_inbox.html",
        {
            "pending": approvals_decidable_by(request.user),
            "recent": recent,
        },
    )


def approval_detail(request, pk):
    approval = get_object_or_404(
        ApprovalRequest.objects.select_related(
            "component__owner", "environment", "requested_by", "decided_by", "release"
        ),
        pk=pk,
    )
    if request.htmx:
        context = {"approval": approval, **may(request.user, approval), **reach(approval)}
        return render(request, "approvals/approval_detail.html#decision", context)
    panels = panels_for(APPROVAL, request, approval)
    context = {"approval": approval, "panels": panels, **may(request.user, approval)}
    return render(request, "approvals/approval_detail.html", context)


def reach(approval) -> dict:
    """How the request reached the team's Slack channel (posted, on its way, failed), and
    where it was decided from, for the decision card."""
    from notifications.models import Notification

    slack = Notification.objects.filter(channel="slack", key=f"approval:{approval.pk}")
    return {
        "slack_deliveries": list(slack.order_by("created_at", "pk")),
        "decided_via": approval_decided_via(approval),
    }


def may(user, approval) -> dict:
    """What the page offers `user`, asked of the rules themselves (superuser grants nothing),
    and `soak`: why approving is not offered yet (the analysis soaks), else ""."""
    return {
        "soak": soak_reason(approval),
        "can_decide": rules.has_perm("approvals.decide_approvalrequest", user, approval),
        "can_abort": rules.has_perm("approvals.abort_approvalrequest", user, approval),
        "can_break_glass": rules.has_perm("approvals.break_glass_approvalrequest", user, approval),
    }


def soak_reason(approval) -> str:
    """The countdown while the release's step soaks under its analysis (approvals wait)."""
    from deployments.analysis.selectors import analysis_gate_open

    release = approval.release if approval.release_id else None
    if not approval.is_pending or release is None or not release.is_active:
        return ""
    gate_open, why = analysis_gate_open(release)
    return "" if gate_open else why


def _back(request, approval):
    """Back to `next` when it is a page of this site, else to the approval."""
    return redirect(safe_next(request, approval.get_absolute_url()))


def compare_url(approval: ApprovalRequest) -> str:
    """The compare view of the two versions on the GitHub the portal uses (github.com, GitHub
    Enterprise or the sandbox), when the repository is known."""
    from deployments.releases.selectors import repository_slug
    from integrations.github import web_url

    slug = repository_slug(approval.component)
    if not (slug and approval.from_version and approval.to_version):
        return ""
    return web_url(f"{slug}/compare/{approval.from_version}...{approval.to_version}")


def decided_message(approval: ApprovalRequest) -> str:
    """What a person is told after deciding, from the request as it stands now."""
    if approval.signal_state == ApprovalRequest.SignalState.HELD:
        return (
            f"Decision recorded. The rollout has not reached {approval.rollout_phase} yet: "
            "the decision is held and sent when it pauses there."
        )
    if approval.state == ApprovalRequest.State.PENDING:
        return "Vote recorded; the request needs more approvals before anything moves."
    return "Decision recorded; the waiting workflow is being told."


@mutating
def approval_decide(request, pk):
    approval = get_object_or_404(
        ApprovalRequest.objects.select_related("component__owner", "environment"), pk=pk
    )
    try:
        decided = services.approval_decide(
            actor=request.user,
            approval=approval,
            decision=request.POST.get("decision", ""),
            comment=request.POST.get("comment", ""),
            context=AuditContext.from_request(request),
        )
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, decided_message(decided))
    return _back(request, approval)


@mutating
def approval_break_glass(request, pk):
    """An SRE overrides the gate in an emergency: separate from deciding, and loud."""
    approval = get_object_or_404(
        ApprovalRequest.objects.select_related("component__owner", "environment"), pk=pk
    )
    try:
        services.approval_break_glass(
            actor=request.user,
            approval=approval,
            reason=request.POST.get("reason", ""),
            context=AuditContext.from_request(request),
        )
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.warning(request, "Break-glass override recorded and audited; the gate is open.")
    return _back(request, approval)


@mutating
def release_promote(request, pk):
    """Promote a gated release from its page: a decision on its approval, same rules."""
    from deployments.models import Release

    release = get_object_or_404(Release.objects.select_related("component", "environment"), pk=pk)
    try:
        decided = services.approval_release_promote(
            actor=request.user,
            release=release,
            full=request.POST.get("full") == "1",
            context=AuditContext.from_request(request),
        )
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, decided_message(decided))
    return redirect(release.get_absolute_url())
