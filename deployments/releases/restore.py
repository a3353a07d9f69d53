"""Restore the last good version of a service in one environment, in one click.

"Last good": the newest version that succeeded there and is not the one being undone (the latest
release's). A canary in flight is aborted first through `release_abort`; then the good version is
released through the same GitOps path as any release (workflow -> commit -> Argo CD sync), as a
rolling update, so the GitOps repository names what runs again.
"""

from catalog.models import Component, Environment
from portal.audit import AuditContext
from portal.permissions import permission_require

from .errors import ReleaseRefused
from .models import Release


def restore_plan(component: Component, environment: Environment) -> tuple[Release | None, str]:
    """(the latest release being undone, the version to restore or "")."""
    releases = Release.objects.filter(component=component, environment=environment)
    latest = releases.order_by("-created_at").first()
    if latest is None:
        return None, ""
    good = (
        releases.filter(state=Release.State.SUCCEEDED)
        .exclude(version=latest.version)
        .order_by("-finished_at")
        .values_list("version", flat=True)
        .first()
    )
    return latest, good or ""


def release_restore(
    *,
    actor,
    component: Component,
    environment: Environment,
    reason: str,
    context: AuditContext | None = None,
) -> Release:
    """Abort what is in flight and release the last good version; the new release."""
    from .services import release_abort, release_start

    permission_require(
        actor=actor,
        perm="deployments.restore_release",
        obj=component,
        action="release.restore",
        component=component,
        environment=environment.name,
        context=context,
        message=f"Only {component.owner or 'the owning team'} and SREs may restore {component}.",
    )
    if not reason.strip():
        raise ReleaseRefused(
            "Say why you restore: the reason goes into the timeline and audit log."
        )
    latest, good = restore_plan(component, environment)
    if not good:
        raise ReleaseRefused(
            f"No earlier version of {component} succeeded in {environment}: nothing to restore."
        )
    if latest.is_active:
        try:
            release_abort(
                actor=actor, release=latest, reason=f"restoring {good}: {reason}", context=context
            )
        except ReleaseRefused:
            pass  # it finished or stopped meanwhile: the restore goes on
    return release_start(
        actor=actor,
        component=component,
        environment=environment,
        version=good,
        strategy=Release.Strategy.ROLLING,
        reason=reason,
        rollback_of=latest,
        restore=True,
        context=context,
    )
