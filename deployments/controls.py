"""Self-serve Kubernetes within guardrails: read the live deployment, turn a knob.

A knob change is checked here (permission, the policy's ranges, a reason, confirmation for
production), then checked against the live cluster (a read, outside any transaction: a cluster
that cannot be read is not written to), recorded (ControlAction + audit row, one transaction) and
applied by a Celery task on commit. Kubernetes is never called inside a transaction.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import ComponentEnvironment
from catalog.selectors import environment_kube_contexts
from integrations.errors import IntegrationError
from integrations.kubernetes import DeploymentInfo, kubernetes_adapter
from portal.audit import AuditContext, audit_record
from portal.errors import PortalError, ValidationFailed
from portal.models import AuditEvent
from portal.permissions import permission_require

from .models import ControlAction, ControlPolicy

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


def control_policy_for(target: ComponentEnvironment) -> ControlPolicy | None:
    """The component's own policy in the environment, else the environment's default; cached on
    `target` for the request."""
    if not hasattr(target, "_control_policy"):
        policies = ControlPolicy.objects.filter(environment_id=target.environment_id).filter(
            Q(component_id=target.component_id) | Q(component__isnull=True)
        )
        found = sorted(policies, key=lambda p: p.component_id is None)
        target._control_policy = found[0] if found else None
    return target._control_policy


# -- live state ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveState:
    """The live deployment of one target, or why it is unknown."""

    info: DeploymentInfo | None = None
    error: str = ""
    configured: bool = True

    @property
    def known(self) -> bool:
        return self.info is not None


def control_live(target: ComponentEnvironment) -> LiveState:
    """Read the target's Deployment (with HPA and restarts); failures become an unknown state."""
    if not target.kube_deployment:
        return LiveState(
            error="No Kubernetes deployment is set for it in the catalog.", configured=False
        )
    environment = target.environment
    try:
        info = kubernetes_adapter(contexts=environment_kube_contexts()).deployment_get(
            environment.name, environment.kube_namespace or "default", target.kube_deployment
        )
    except IntegrationError as exc:
        return LiveState(error=exc.message)
    return LiveState(info=info)


def control_warnings(kind: str, policy: ControlPolicy | None, live: LiveState) -> list[str]:
    """What would undo a change of `kind`, said before the person acts."""
    warnings = []
    hpa = live.info.hpa if live.info else None
    if kind == ControlAction.Kind.SCALE and hpa:
        warnings.append(
            f"The autoscaler {hpa.name} controls replicas ({hpa.min_replicas}–{hpa.max_replicas}): "
            "it will move a manual number back as load changes. Change the autoscaler instead."
        )
    if policy and policy.argocd_auto_sync and kind != ControlAction.Kind.RESTART:
        warnings.append(
            "Argo CD self-heal is on here (declared by the platform team in the guardrails): it "
            "reverts a manual change at its next sync. Change the GitOps repository to keep it."
        )
    return warnings


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
    from . import tasks

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


# -- machine steps (Celery) ----------------------------------------------------------------


def control_action_claim(*, action_id: int) -> bool:
    """Take a queued action for applying; False when another delivery took it already."""
    return bool(
        ControlAction.objects.filter(pk=action_id, state=ControlAction.State.QUEUED).update(
            state=ControlAction.State.APPLYING
        )
    )


def control_action_send(*, action_id: int) -> str:
    """Call Kubernetes for a claimed action (no transaction open); returns what happened."""
    action = ControlAction.objects.select_related("component", "environment").get(pk=action_id)
    target = ComponentEnvironment.objects.get(
        component_id=action.component_id, environment_id=action.environment_id
    )
    env = action.environment
    namespace, name = env.kube_namespace or "default", target.kube_deployment
    kube = kubernetes_adapter(contexts=environment_kube_contexts())
    if action.kind == ControlAction.Kind.SCALE:
        scale = kube.deployment_scale(env.name, namespace, name, action.params["replicas"])
        return f"Replicas set to {scale.replicas}."
    if action.kind == ControlAction.Kind.HPA:
        hpa = kube.hpa_patch(env.name, namespace, name, **action.params)
        return (
            f"Autoscaler {hpa.name}: {hpa.min_replicas}–{hpa.max_replicas} replicas at "
            f"{hpa.target_cpu_utilization}% CPU."
        )
    stamp = kube.deployment_restart(env.name, namespace, name)
    return f"Restart started at {stamp}: pods are replaced one by one."


def control_action_finish(*, action_id: int, ok: bool, message: str) -> bool:
    """Record the outcome of an applied action (a failure is audited); False if not applying."""
    state = ControlAction.State.DONE if ok else ControlAction.State.FAILED
    with transaction.atomic():
        moved = ControlAction.objects.filter(
            pk=action_id, state=ControlAction.State.APPLYING
        ).update(state=state, message=message[:500], finished_at=timezone.now())
        if moved and not ok:
            action = ControlAction.objects.select_related("component", "environment").get(
                pk=action_id
            )
            audit_record(
                actor=None,
                actor_label="switchyard:worker",
                action=f"control.{action.kind}",
                target=action,
                outcome=AuditEvent.Outcome.FAILED,
                component=action.component,
                environment=action.environment.name,
                after=action.params,
                reason=message,
            )
    return bool(moved)


def control_action_requeue(*, action_id: int) -> None:
    """Put an action back in the queue before a retry (transient Kubernetes failure)."""
    ControlAction.objects.filter(pk=action_id, state=ControlAction.State.APPLYING).update(
        state=ControlAction.State.QUEUED
    )


STALE_AFTER = timedelta(minutes=5)


def control_actions_recover(*, now=None) -> list[int]:
    """Beat: actions whose task was lost, or whose worker died while applying them.

    Queued ones are sent again. Scaling and autoscaler changes set absolute values, so applying
    one again is harmless: they are queued again. A restart is not repeated blindly: it is marked
    failed with what to check. Returns the ids to send.
    """
    cutoff = (now or timezone.now()) - STALE_AFTER
    stale = ControlAction.objects.filter(created_at__lt=cutoff)
    stale.filter(
        state=ControlAction.State.APPLYING,
        kind__in=[ControlAction.Kind.SCALE, ControlAction.Kind.HPA],
    ).update(state=ControlAction.State.QUEUED)
    for action_id in stale.filter(
        state=ControlAction.State.APPLYING, kind=ControlAction.Kind.RESTART
    ).values_list("pk", flat=True):
        control_action_finish(
            action_id=action_id, ok=False,
            message="The worker stopped while restarting: check the pods' ages, and restart "
            "again if they were not replaced.",
        )  # fmt: skip
    return list(stale.filter(state=ControlAction.State.QUEUED).values_list("pk", flat=True))
