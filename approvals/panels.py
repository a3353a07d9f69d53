"""Approvals' cards on the service and approval pages (see portal/panels.py)."""

from catalog.models import Component
from portal.panels import APPROVAL, SERVICE, Panel, register

from .models import ApprovalRequest


@register
class PendingApprovalsPanel(Panel):
    """The service page's callout: what waits for a decision on this component."""

    name = "approvals"
    title = "Waiting for approval"
    permission = "approvals.view_approvalrequest"
    url_name = "approvals:panel_pending"
    template = "approvals/_component_pending.html"
    model = Component
    pages = {SERVICE: ("main", 10)}

    def context(self, request, target, page) -> dict:
        pending = ApprovalRequest.objects.filter(component=target, state="pending")
        return {"pending_approvals": list(pending.select_related("environment", "release"))}


class ApprovalPanel(Panel):
    permission = "approvals.view_approvalrequest"
    model = ApprovalRequest

    def load(self, pk: int):
        from django.shortcuts import get_object_or_404

        related = ("component__owner", "environment", "requested_by", "decided_by", "release")
        return get_object_or_404(ApprovalRequest.objects.select_related(*related), pk=pk)

    def context(self, request, target, page) -> dict:
        return {"approval": target}


@register
class DecisionPanel(ApprovalPanel):
    """The request and its decision form; the page's #decision fragment."""

    name = "decision"
    title = "Decision"
    url_name = "approvals:approval_detail"
    template = "approvals/approval_detail.html#decision"
    pages = {APPROVAL: ("main", 10)}

    def context(self, request, target, page) -> dict:
        from .views import may, reach

        return {"approval": target, **may(request.user, target), **reach(target)}


@register
class ChangesPanel(ApprovalPanel):
    name = "changes"
    title = "What changes"
    url_name = "approvals:panel_changes"
    template = "approvals/approval_detail.html#changes"
    pages = {APPROVAL: ("aside", 30)}

    def context(self, request, target, page) -> dict:
        from .views import compare_url

        return {"approval": target, "compare_url": compare_url(target)}
