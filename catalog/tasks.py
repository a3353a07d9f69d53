"""Celery entry points of the catalog."""

from celery import shared_task

from .selectors import blast_radius_warm


@shared_task(name="catalog.blast_radius_warm")
def blast_radius_warm_task() -> int:
    """Beat, every 30 s: after a catalog change, prepare the hubs' blast radius answers."""
    return blast_radius_warm()


@shared_task(name="catalog.sources_queue_due")
def sources_queue_due_task() -> list[int]:
    """Beat, every 30 s: queue the catalog sources whose interval has passed."""
    from .sources.sync import sources_queue_due

    return sources_queue_due()


@shared_task(name="catalog.source_sync")
def source_sync_task(pk: int) -> None:
    """Run one sync (does nothing when another delivery of this task runs it already)."""
    from .sources.sync import source_run

    source_run(pk)


@shared_task(name="catalog.relations_resolve")
def relations_resolve_task() -> int:
    """Beat, every 60 s: resolve waiting relations whose target arrived without an import
    (a team or component added in the admin). Imports resolve their own at once."""
    from .backstage.pending import relations_resolve

    return relations_resolve()
