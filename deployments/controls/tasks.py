"""Celery entry points for knobs and runtime tuning: load by pk, call a machine step, decide on
retries."""

from celery import shared_task
from django.db import transaction

from integrations.errors import IntegrationError

from . import machine, tuning_machine

MAX_RETRIES = 6


@shared_task(name="deployments.control_action_apply", bind=True, max_retries=MAX_RETRIES)
def control_action_apply(self, action_id: int) -> None:
    """Send one knob change to Kubernetes. A second delivery finds it claimed and does nothing."""
    if not machine.control_action_claim(action_id=action_id):
        return
    try:
        message = machine.control_action_send(action_id=action_id)
    except IntegrationError as exc:
        if _may_retry(self, exc):
            machine.control_action_requeue(action_id=action_id)
            raise self.retry(exc=exc, countdown=min(120, 2 ** (self.request.retries + 1)))
        machine.control_action_finish(action_id=action_id, ok=False, message=exc.message)
        return
    machine.control_action_finish(action_id=action_id, ok=True, message=message)


@shared_task(name="deployments.tuning_push", bind=True, max_retries=MAX_RETRIES)
def tuning_push(self, component_id: int, environment_id: int) -> None:
    """Merge a component's runtime values into its ConfigMap; the rows say if it failed."""
    try:
        tuning_machine.tuning_push(component_id=component_id, environment_id=environment_id)
    except IntegrationError as exc:
        if _may_retry(self, exc):
            raise self.retry(exc=exc, countdown=min(120, 2 ** (self.request.retries + 1)))


def _may_retry(task, exc: IntegrationError) -> bool:
    """Transient failures retry with backoff on a worker. Run eagerly (tests, a demo without a
    worker) nobody would come back later: the failure is recorded at once instead."""
    if task.request.is_eager:
        return False
    return exc.transient and task.request.retries < task.max_retries


@shared_task(name="deployments.tuning_expire")
def tuning_expire() -> int:
    """Beat: revert temporary overrides whose time is up (each revert audited, then pushed)."""
    reverted = tuning_machine.tuning_expire_due()
    for component_id, environment_id in dict.fromkeys(reverted):
        transaction.on_commit(lambda c=component_id, e=environment_id: tuning_push.delay(c, e))
    return len(reverted)


@shared_task(name="deployments.control_actions_recover")
def control_actions_recover() -> int:
    """Beat, every minute: resend knob changes whose task or worker was lost."""
    ids = machine.control_actions_recover()
    for action_id in ids:
        control_action_apply.delay(action_id)
    return len(ids)
