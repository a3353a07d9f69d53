"""Celery entry points of the portal app."""

import socket

from celery import shared_task

from . import services


@shared_task(name="portal.tasks.heartbeat")
def heartbeat(hostname: str | None = None) -> None:
    """Beat sends this every 30 s; the worker that runs it records itself as alive."""
    worker = heartbeat.request.hostname or hostname or socket.gethostname()
    services.heartbeat_record(hostname=worker)


@shared_task(name="portal.tasks.audit_checkpoint")
def audit_checkpoint() -> None:
    """Every five minutes: sign the chain's head when it moved since the last checkpoint."""
    from .audit import audit_checkpoint_if_moved

    audit_checkpoint_if_moved()
