"""The logs cards (Grafana Loki) of the service, release and approval pages."""

import rules
from django.conf import settings

from catalog.models import Component
from deployments.releases.models import Release
from portal.panels import APPROVAL, RELEASE, SERVICE, Panel, register

from .rules import log_access
from .selectors import SPARK_HEIGHT, SPARK_WIDTH, minutes_shown, release_logs, service_errors


@register
class ServiceLogsPanel(Panel):
    """Recent error lines of the service, per environment and version."""

    name = "logs"
    title = "Recent errors in the logs"
    permission = "logs.view_panel"
    url_name = "logs:panel_service_logs"
    template = "logs/_service_logs.html"
    model = Component
    lazy = True
    refresh = 60
    pages = {SERVICE: ("main", 35)}

    def context(self, request, target, page) -> dict:
        return {
            "component": target,
            "environments": service_errors(request.user, target),
            "minutes": minutes_shown(),
            "grafana": bool(settings.GRAFANA_URL),
        }


@register
class ReleaseLogsPanel(Panel):
    """The new version's error lines beside the stable version's: per minute and the latest."""

    name = "release-logs"
    title = "Error logs, new vs stable"
    permission = "logs.view_panel"
    url_name = "logs:panel_release_logs"
    template = "logs/_release_logs.html"
    model = Release
    lazy = True
    refresh = 30
    pages = {RELEASE: ("aside", 15), APPROVAL: ("aside", 25)}

    def target(self, subject):
        return subject if isinstance(subject, Release) else subject.release

    def load(self, pk: int):
        from django.shortcuts import get_object_or_404

        return get_object_or_404(Release.objects.select_related("component", "environment"), pk=pk)

    def context(self, request, target, page) -> dict:
        readable = rules.has_perm("logs.read_logs", request.user, target)
        sides, problem = release_logs(target) if readable else ([], "")
        return {
            "release": target,
            "readable": readable,
            "access": log_access(target.environment),
            "sides": sides,
            "problem": problem,
            "minutes": minutes_shown(),
            "width": SPARK_WIDTH,
            "height": SPARK_HEIGHT,
            "grafana": bool(settings.GRAFANA_URL),
        }
