"""Celery entry points of the catalog."""

from celery import shared_task

from .selectors import blast_radius_warm


@shared_task(name="catalog.blast_radius_warm")
def blast_radius_warm_task() -> int:
    """Beat, every 30 s: after a catalog change, prepare the hubs' blast radius answers."""
    return blast_radius_warm()
