"""Celery entry points for trains: load by pk, call a machine step."""

from celery import shared_task

from . import machine


@shared_task(name="deployments.train_tick")
def train_tick(train_id: int) -> str:
    """One step of one train (a duplicate changes nothing: every step is conditional)."""
    return machine.train_tick_run(train_id=train_id)


@shared_task(name="deployments.trains_tick")
def trains_tick() -> int:
    """Beat, every 2 s: step every running train."""
    active = machine.trains_active()
    for train_id in active:
        machine.train_tick_run(train_id=train_id)
    return len(active)
