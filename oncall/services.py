"""PagerDuty change events for releases: start and finish, on the component's service."""

from django.conf import settings

from integrations.pagerduty import pagerduty_client

from .selectors import INTEGRATION_KEY

ANNOUNCED = {"dispatching": "started", "succeeded": "succeeded", "failed": "failed",
             "aborted": "aborted"}  # fmt: skip


def release_change_event_send(*, release_id: int, state: str) -> bool:
    """Send the change event of a release reaching `state`; False when there is nothing to send
    (no integration key on the component, or a state that is not a start or a finish)."""
    from deployments.models import Release

    release = Release.objects.select_related("component", "environment", "requested_by").get(
        pk=release_id
    )
    key = str((release.component.annotations or {}).get(INTEGRATION_KEY, "")).strip()
    if not key or state not in ANNOUNCED:
        return False
    what = ANNOUNCED[state]
    url = settings.SITE_URL.rstrip("/") + release.get_absolute_url()
    pagerduty_client().change_event_send(
        key,
        summary=f"Release of {release.component.name} {release.version} to "
        f"{release.environment.name} {what}",
        source="switchyard",
        details={
            "release": release.pk,
            "component": release.component.name,
            "environment": release.environment.name,
            "version": release.version,
            "previous_version": release.previous_version,
            "strategy": release.strategy,
            "state": state,
            "requested_by": getattr(release.requested_by, "username", ""),
        },
        links=[{"href": url, "text": f"Release {release.pk} in Switchyard"}],
    )
    return True
