"""Machine steps of a knob change: called by Celery tasks, never by people. Each claims or
moves the action with a conditional update, so a duplicate or late task changes nothing."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from catalog.models import ComponentEnvironment
from catalog.selectors import environment_kube_contexts
from integrations.kubernetes import kubernetes_adapter
from portal.audit import audit_record
from portal.models import AuditEvent

from .knobs import KNOBS, knob_get
from .models import ControlAction


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
    knob = knob_get(action.kind)
    kube = kubernetes_adapter(contexts=environment_kube_contexts())
    return knob.apply(kube, env.name, namespace, name, action.params)


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

    Queued ones are sent again. Most knobs set absolute values, so applying one again is
    harmless: they are queued again. A knob that is not `repeatable` (restart) is not repeated
    blindly: it is marked failed with what to check. Returns the ids to send.
    """
    cutoff = (now or timezone.now()) - STALE_AFTER
    stale = ControlAction.objects.filter(created_at__lt=cutoff)
    repeatable = [knob.name for knob in KNOBS.values() if knob.repeatable]
    applying = stale.filter(state=ControlAction.State.APPLYING)
    applying.filter(kind__in=repeatable).update(state=ControlAction.State.QUEUED)
    for action_id, kind in applying.exclude(kind__in=repeatable).values_list("pk", "kind"):
        control_action_finish(action_id=action_id, ok=False, message=knob_get(kind).lost_message)
    return list(stale.filter(state=ControlAction.State.QUEUED).values_list("pk", flat=True))
