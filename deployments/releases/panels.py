"""The release wing's cards on the service, release and approval pages (see portal/panels.py)."""

import rules

from catalog.models import Component
from portal.panels import APPROVAL, RELEASE, SERVICE, Panel, register

from .forms import ReasonForm
from .models import Release
from .selectors import release_overview


def service_targets(component: Component, page) -> list:
    """The component's ComponentEnvironment rows: the service page's own when it has them."""
    if "deployments" in page:
        return page["deployments"]
    return list(component.deployments.select_related("environment"))


@register
class ReleasesPanel(Panel):
    """What runs where, what is moving; each active release polls through its #status."""

    name = "releases"
    title = "Releases"
    permission = "deployments.view_release"
    url_name = "deployments:panel_releases"
    template = "deployments/releases/_release_panel.html"
    model = Component
    pages = {SERVICE: ("main", 20)}

    def context(self, request, target, page) -> dict:
        overview = release_overview(target)
        active, running, restorable = overview.active, overview.running, overview.restorable
        rows = [
            {
                "environment": t.environment,
                "running": running.get(t.environment_id),
                "active": next((r for r in active if r.environment_id == t.environment_id), None),
                "restore_to": restorable.get(t.environment_id, ""),
            }
            for t in service_targets(target, page)
        ]
        recent = overview.recent
        return {
            "component": target,
            "rows": rows,
            "active": active,
            "recent": recent,
            "can_release": rules.has_perm("deployments.start_release", request.user, target),
            "reason_form": ReasonForm(),
        }


class ReleasePanel(Panel):
    """A card about a release: the release page's own, or the one an approval pauses."""

    permission = "deployments.view_release"
    model = Release

    def target(self, subject):
        return subject if isinstance(subject, Release) else subject.release

    def context(self, request, target, page) -> dict:
        return {"release": target, "reason_form": ReasonForm()}


@register
class StatusPanel(ReleasePanel):
    """Polls itself every 2 s while active; a finished release answers 286 (stop polling)."""

    name = "status"
    title = "Release status"
    url_name = "deployments:release_detail"
    template = "deployments/releases/release_detail.html#status"
    refresh = 2
    pages = {RELEASE: ("main", 10)}


@register
class ErrorRatesPanel(ReleasePanel):
    name = "error-rates"
    title = "Error rates"
    url_name = "deployments:release_errors"
    template = "deployments/releases/_error_rates.html"
    placeholder = "deployments/releases/_error_rates.html#placeholder"
    refresh = 15
    lazy = True
    pages = {RELEASE: ("aside", 10), APPROVAL: ("aside", 20)}


@register
class RolloutPanel(ReleasePanel):
    name = "rollout"
    title = "Rollout"
    url_name = "deployments:panel_rollout"
    template = "deployments/releases/release_detail.html#rollout"
    pages = {APPROVAL: ("aside", 10)}
