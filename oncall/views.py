from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect

from approvals.models import ApprovalRequest
from portal.audit import AuditContext
from portal.decorators import mutating
from portal.errors import PermissionDenied, PortalError

from .gate import incident_gate_override


@mutating
def incident_gate_override_view(request, pk):
    """An SRE lets one approval request through the incident gate, with a reason."""
    approval = get_object_or_404(
        ApprovalRequest.objects.select_related("component", "environment"), pk=pk
    )
    try:
        incident_gate_override(
            actor=request.user, approval=approval, reason=request.POST.get("reason", ""),
            context=AuditContext.from_request(request),
        )  # fmt: skip
    except PermissionDenied:
        raise
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Incident gate overridden for this request; it is audited.")
    return redirect(approval.get_absolute_url())
