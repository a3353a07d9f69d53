"""Celery entry points for trains: load by pk, call a machine step."""

from celery import shared_task

from . import machine, parts


@shared_task(name="deployments.train_tick")
def train_tick(train_id: int) -> str:
    """One step of one train (a duplicate changes nothing: every step is conditional)."""
    return machine.train_tick_run(train_id=train_id)


@shared_task(name="deployments.trains_tick")
def trains_tick() -> int:
    """Beat, every 2 s: close the train approvals past their expiry, then step every running
    train."""
    parts.train_parts_expire_due()
    active = machine.trains_active()
    for train_id in active:
        machine.train_tick_run(train_id=train_id)
    return len(active)
