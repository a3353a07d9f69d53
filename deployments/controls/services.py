"""Self-serve Kubernetes within guardrails: read the live deployment, turn a knob.

A knob change is checked here (permission, the policy's ranges, a reason, confirmation for
production), then checked against the live cluster (a read, outside any transaction: a cluster
that cannot be read is not written to), recorded (ControlAction + audit row, one transaction) and
applied by a Celery task on commit. Kubernetes is never called inside a transaction.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from catalog.models import ComponentEnvironment
from integrations.kubernetes import DeploymentInfo
from portal.audit import AuditContext, audit_record
from portal.errors import PortalError, ValidationFailed
from portal.models import AuditEvent
from portal.permissions import permission_require

from . import tasks
from .models import ControlAction, ControlPolicy
from .selectors import control_live, control_policy_for

PERMS = {
    ControlAction.Kind.SCALE: "deployments.scale_deployment",
    ControlAction.Kind.HPA: "deployments.change_hpa",
    ControlAction.Kind.RESTART: "deployments.restart_deployment",
}
KNOBS = {
    ControlAction.Kind.SCALE: "replicas",
    ControlAction.Kind.HPA: "hpa",
    ControlAction.Kind.RESTART: "restart",
}
WHAT_TO_DO = (
    "Nothing was sent to the cluster. Check the cluster's status page or ask the platform team; "
    "try again once the Kubernetes API answers."
)


class ConfirmationNeeded(PortalError):
    """Production: the person must confirm the change once more before it is made."""


class KubernetesUnavailable(PortalError):
    """The cluster could not be read, so nothing was written to it."""


# -- validation against the guardrails -----------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """The allowed ranges of one policy, for forms and messages."""

    replicas: tuple[int, int] = (0, 0)
    hpa_min: tuple[int, int] = (0, 0)
    hpa_max: tuple[int, int] = (0, 0)
    cpu: tuple[int, int] = (0, 0)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, policy: ControlPolicy) -> "Limits":
        return cls(
            replicas=(policy.replicas_min, policy.replicas_max),
            hpa_min=(policy.hpa_min_from, policy.hpa_min_to),
            hpa_max=(policy.hpa_max_from, policy.hpa_max_to),
            cpu=(policy.cpu_from, policy.cpu_to),
        )


def _in_range(label: str, value, bounds: tuple[int, int]) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"{label} must be a whole number between {bounds[0]} and {bounds[1]}."
        )
    if not bounds[0] <= number <= bounds[1]:
        raise ValidationFailed(
            f"{label} {number} is outside the allowed range {bounds[0]}–{bounds[1]} set by the "
            "platform team. Nothing was changed."
        )
    return number


def _validated(kind: str, policy: ControlPolicy, params: dict) -> dict:
    limits = Limits.of(policy)
    if kind == ControlAction.Kind.SCALE:
        return {"replicas": _in_range("Replicas", params.get("replicas"), limits.replicas)}
    if kind == ControlAction.Kind.HPA:
        checked = {
            "min_replicas": _in_range(
                "Minimum replicas", params.get("min_replicas"), limits.hpa_min
            ),
            "max_replicas": _in_range(
                "Maximum replicas", params.get("max_replicas"), limits.hpa_max
            ),
            "target_cpu_utilization": _in_range(
                "Target CPU %", params.get("target_cpu_utilization"), limits.cpu
            ),
        }
        if checked["min_replicas"] > checked["max_replicas"]:
            raise ValidationFailed("Minimum replicas must not exceed maximum replicas.")
        return checked
    return {}


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
    """Ask for a knob change (scale, hpa, restart) on `target`; Kubernetes is called on commit.

    Raises PermissionDenied (audited), ValidationFailed (nothing recorded), ConfirmationNeeded
    (production, not confirmed yet) or KubernetesUnavailable (recorded as refused).
    """
    component, environment = target.component, target.environment
    permission_require(
        actor=actor,
        perm=PERMS[kind],
        obj=target,
        action=f"control.{kind}",
        component=component,
        environment=environment.name,
        context=context,
        message=f"You may not {ControlAction.Kind(kind).label.lower()} {component} in "
        f"{environment}: the guardrails do not give this knob to you there.",
    )
    policy = control_policy_for(target)
    checked = _validated(kind, policy, params or {})
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
            f"The Kubernetes API of {environment} cannot be read ({live.error}). {WHAT_TO_DO}"
        )
    if kind == ControlAction.Kind.HPA and live.info.hpa is None:
        raise ValidationFailed(f"{component} has no autoscaler in {environment}.")
    return _record(actor, target, kind, checked, _before(kind, live.info), reason, context)


def _before(kind: str, info: DeploymentInfo) -> dict:
    if kind == ControlAction.Kind.SCALE:
        return {"replicas": info.replicas_desired}
    if kind == ControlAction.Kind.HPA:
        return {
            "min_replicas": info.hpa.min_replicas,
            "max_replicas": info.hpa.max_replicas,
            "target_cpu_utilization": info.hpa.target_cpu_utilization,
        }
    return {"restarted_at": info.restarted_at}


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
