"""Self-serve Kubernetes within guardrails: read the live deployment, turn a knob.

A knob change is checked here (permission, the policy's ranges, a reason, confirmation for
production), then checked against the live cluster (a read, outside any transaction: a cluster
that cannot be read is not written to), recorded (ControlAction + audit row, one transaction) and
applied by a Celery task on commit. Kubernetes is never called inside a transaction.
"""

from django.db import transaction
from django.utils import timezone

from catalog.models import ComponentEnvironment
from portal.audit import AuditContext, audit_record
from portal.errors import PortalError, ValidationFailed
from portal.models import AuditEvent
from portal.permissions import permission_require

from . import tasks
from .knobs import knob_get
from .models import ControlAction
from .selectors import control_live, control_policy_for

WHAT_TO_DO = (
    "Nothing was sent to the cluster. Check the cluster's status page or ask the platform team; "
    "try again once the Kubernetes API answers."
)


class ConfirmationNeeded(PortalError):
    """Production: the person must confirm the change once more before it is made."""


class KubernetesUnavailable(PortalError):
    """The cluster could not be read, so nothing was written to it. `live` is that read, so
    the page that says so does not wait for the cluster a second time."""

    def __init__(self, message: str, *, live=None):
        super().__init__(message)
        self.live = live


# -- the one write path --------------------------------------------------------------------


def control_request(
    *,
    actor,
    target: ComponentEnvironment,
    kind: str,
    params: dict | None = None,
    reason: str = "",
    confirmed: bool = False,
    context: AuditContext | None = None,
) -> ControlAction:
    """Ask for a change of the knob named `kind` (see controls/knobs/) on `target`; Kubernetes
    is called on commit.

    Raises PermissionDenied (audited), ValidationFailed (nothing recorded), ConfirmationNeeded
    (production, not confirmed yet) or KubernetesUnavailable (recorded as refused).
    """
    knob = knob_get(kind)
    component, environment = target.component, target.environment
    permission_require(
        actor=actor,
        perm=knob.permission,
        obj=target,
        action=f"control.{kind}",
        component=component,
        environment=environment.name,
        context=context,
        message=f"You may not {knob.verb} {component} in "
        f"{environment}: the guardrails do not give this knob to you there.",
    )
    policy = control_policy_for(target)
    checked = knob.validate(policy, params or {})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why in the reason field: it goes into the audit log.")
    if not target.kube_deployment:
        raise ValidationFailed(f"{component} has no Kubernetes deployment in {environment}.")
    if environment.is_production and not confirmed:
        raise ConfirmationNeeded(f"{environment} is production: confirm the change.")
    live = control_live(target)
    if not live.known:
        _refuse(actor, target, kind, checked, reason, live.error, context)
        raise KubernetesUnavailable(
            f"The Kubernetes API of {environment} cannot be read ({live.error}). {WHAT_TO_DO}",
            live=live,
        )
    if not knob.available(live.info):
        raise ValidationFailed(knob.unavailable_message(target))
    return _record(actor, target, kind, checked, knob.before(live.info), reason, context)


def _refuse(actor, target, kind, params, reason, error, context) -> None:
    with transaction.atomic():
        action = ControlAction.objects.create(
            component=target.component,
            environment=target.environment,
            kind=kind,
            params=params,
            state=ControlAction.State.REFUSED,
            message=f"Kubernetes API unavailable: {error}"[:500],
            reason=reason,
            requested_by=actor,
            finished_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action=f"control.{kind}",
            target=action,
            outcome=AuditEvent.Outcome.FAILED,
            component=target.component,
            environment=target.environment.name,
            after=params,
            reason=reason,
            context=context,
        )


def _record(actor, target, kind, params, before, reason, context) -> ControlAction:
    with transaction.atomic():
        action = ControlAction.objects.create(
            component=target.component,
            environment=target.environment,
            kind=kind,
            params=params,
            before=before,
            reason=reason,
            requested_by=actor,
        )
        audit_record(
            actor=actor,
            action=f"control.{kind}",
            target=action,
            component=target.component,
            environment=target.environment.name,
            before=before,
            after=params,
            reason=reason,
            context=context,
        )
        transaction.on_commit(lambda: tasks.control_action_apply.delay(action.pk))
    return action
