from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from portal.audit import AuditContext
from portal.decorators import mutating
from portal.errors import PortalError
from portal.panels import APPROVAL, panels_for

from . import services
from .models import ApprovalRequest
from .selectors import approvals_decidable_by


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
        return render(request, "approvals/approval_detail.html#decision", {"approval": approval})
    panels = panels_for(APPROVAL, request, approval)
    context = {"approval": approval, "panels": panels}
    return render(request, "approvals/approval_detail.html", context)


def compare_url(approval: ApprovalRequest) -> str:
    """GitHub's compare view of the two versions, when the repository is known."""
    from deployments.releases.selectors import repository_slug

    slug = repository_slug(approval.component)
    if not (slug and approval.from_version and approval.to_version):
        return ""
    return f"https://github.com/{slug}/compare/{approval.from_version}...{approval.to_version}"


@mutating
def approval_decide(request, pk):
    approval = get_object_or_404(
        ApprovalRequest.objects.select_related("component__owner", "environment"), pk=pk
    )
    try:
        services.approval_decide(
            actor=request.user,
            approval=approval,
            decision=request.POST.get("decision", ""),
            comment=request.POST.get("comment", ""),
            context=AuditContext.from_request(request),
        )
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Decision recorded; the waiting workflow is being told.")
    return redirect(request.POST.get("next") or approval.get_absolute_url())
