"""The one place services check a permission, recording refusals in the audit log."""

import rules
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

    Asks the rule set itself (`rules.has_perm`), not `User.has_perm`: Django answers True to
    every permission of an active superuser, and superuser status grants nothing in the
    product. Inactive accounts are refused.
    """
    if actor is not None and actor.is_active and rules.has_perm(perm, actor, obj):
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
