"""The ledger's rows for one scope (organisation, namespace, team, service): two queries."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from catalog.models import Component
from oncall.models import Incident

from ..releases.models import Release
from .metrics import INCIDENT_WINDOW, Dora, ReleaseRow, dora_compute, week_start

DEFAULT_WEEKS = 12
MAX_WEEKS = 52
# A release that finished in the window started at most this long before it.
LONGEST_RELEASE = timedelta(days=2)
COLUMNS = ("id", "component_id", "environment_id", "state", "finished_at", "committed_at",
           "rollback_of_id")  # fmt: skip


@dataclass(frozen=True)
class Scope:
    kind: str  # organisation, namespace, team, service
    title: str
    components: Q | None  # a filter on Component; None: the whole organisation

    def releases_filter(self) -> Q:
        if self.components is None:
            return Q()
        return Q(component__in=_components(self.components))


def _components(condition: Q):
    return Component.objects.filter(condition).values("pk")


def weeks_param(value) -> int:
    try:
        return max(1, min(MAX_WEEKS, int(value)))
    except (TypeError, ValueError):
        return DEFAULT_WEEKS


def dora_for(scope: Scope, *, weeks: int = DEFAULT_WEEKS, now: datetime | None = None) -> Dora:
    """The four keys of `scope`'s production releases, week by week (two queries)."""
    now = now or timezone.now()
    start = week_start(now) - timedelta(weeks=weeks - 1)
    rows = [
        ReleaseRow(*values)
        for values in Release.objects.filter(
            scope.releases_filter(),
            environment__is_production=True,
            created_at__gte=start - LONGEST_RELEASE,
        )
        .order_by()
        .values_list(*COLUMNS)
    ]
    incidents: dict[int, list[datetime]] = {}
    if rows:
        found = Incident.objects.filter(
            urgency="high", created_at__gte=start, created_at__lte=now + INCIDENT_WINDOW
        )
        if scope.components is not None:
            found = found.filter(component__in=_components(scope.components))
        for component_id, created in found.order_by().values_list("component_id", "created_at"):
            incidents.setdefault(component_id, []).append(created)
    return dora_compute(rows, incidents, weeks=weeks, now=now)
