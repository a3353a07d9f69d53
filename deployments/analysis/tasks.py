"""Celery entry points for analysis gates: beat's tick claims the due evaluations and runs them."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="deployments.analysis_tick")
def analysis_tick() -> int:
    """Beat, every 2 s: open steps for new canary steps, retry refused aborts, evaluate the due
    ones, let passed steps whose rollout has just paused go on. Returns the evaluations."""
    services.analysis_steps_open()
    services.analysis_aborts_retry()
    for step_id in services.analysis_steps_waiting():
        services.analysis_step_proceed(step_id=step_id)
    return services.analysis_sweep(services.analysis_steps_due())
