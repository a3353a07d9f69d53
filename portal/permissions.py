"""The one place services check a permission, recording refusals in the audit log."""

from django.db import transaction

from .audit import AuditContext, audit_record
from .errors import PermissionDenied
from .models import AuditEvent


def permission_require(
    *,
    actor,
    perm: str,
    obj=None,
    action: str,
    component=None,
    environment: str = "",
    context: AuditContext | None = None,
    message: str = "You are not allowed to do that.",
) -> None:
    """Raise PermissionDenied (after auditing the refusal) unless `actor` has `perm` on `obj`.

    Call it before opening the transaction of the change: the refusal is then committed on its
    own and is not rolled back with the exception.
    """
    if actor is not None and actor.has_perm(perm, obj):
        return
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=action,
            target=obj,
            outcome=AuditEvent.Outcome.DENIED,
            component=component,
            environment=environment,
            reason=message,
            context=context,
        )
    raise PermissionDenied(message, recorded=True)
