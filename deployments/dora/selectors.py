"""DORA for one scope (organisation, namespace, team, service) from the release ledger."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, FloatField, Func, Max, Q
from django.utils import timezone

from catalog.models import Component
from oncall.models import Incident

from ..releases.models import Release
from .metrics import INCIDENT_WINDOW, Dora, ReleaseRow, dora_compute, week_start
from .sql import dora_sql

DEFAULT_WEEKS = 12
MAX_WEEKS = 52
# A release that finished in the window started at most this long before it.
LONGEST_RELEASE = timedelta(days=2)
TIMES = ("finished_at", "committed_at")
FLOAT = FloatField()


def _seconds(name: str):
    """A time column as POSIX seconds: PostgreSQL sends floats, which are read ten times faster
    than timestamps with a time zone; other databases send the timestamp (converted below).
    `date_part` computes the double itself, three times faster than EXTRACT's numeric cast."""
    if connection.vendor == "postgresql":
        return Func(F(name), template="date_part('epoch', %(expressions)s)", output_field=FLOAT)
    return F(name)


def _as_seconds(value):
    return value.timestamp() if isinstance(value, datetime) else value


CACHE_SECONDS = 3600


@dataclass(frozen=True)
class Scope:
    kind: str  # organisation, namespace, team, service
    title: str
    components: Q | None  # a filter on Component; None: the whole organisation
    key: str = ""  # names the scope in the cache ("team:42"); blank: never cached

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


def ledger_stamp() -> tuple:
    """What changes whenever a DORA figure may change: a production release moved (every
    transition sets `updated_at`), one was added or removed, an incident was recorded. One
    aggregate query, read from the index on (environment, updated_at), no rows."""
    releases = Release.objects.filter(environment__is_production=True).aggregate(
        moved=Max("updated_at"),
        count=Count("*"),  # COUNT(*): an index-only scan
    )
    incidents = Incident.objects.aggregate(last=Max("recorded_at"), count=Count("id"))
    return (releases["moved"], releases["count"], incidents["last"], incidents["count"])


def dora_cached(scope: Scope, *, weeks: int = DEFAULT_WEEKS) -> Dora:
    """`dora_for`, kept in the cache for as long as the ledger and the week stay the same: a
    page read again costs the stamp's query instead of the whole window."""
    now = timezone.now()
    if not scope.key:
        return dora_for(scope, weeks=weeks, now=now)
    stamp = hashlib.sha256("-".join(map(str, ledger_stamp())).encode()).hexdigest()[:16]
    # "v2": Week and Dora hold medians since the SQL path; older pickles lack them.
    key = f"dora:v2:{scope.key}:{weeks}:{week_start(now):%Y%m%d}:{stamp}"
    found = cache.get(key)
    if found is None:
        found = dora_for(scope, weeks=weeks, now=now)
        cache.set(key, found, CACHE_SECONDS)
    return found


def dora_for(scope: Scope, *, weeks: int = DEFAULT_WEEKS, now: datetime | None = None) -> Dora:
    """The four keys of `scope`'s production releases, week by week: counted inside
    PostgreSQL (one query, a row per week), or in Python from the rows elsewhere (SQLite, the
    embedded default: two queries). Both give the same numbers (`test_sql.py`)."""
    if connection.vendor == "postgresql":
        return dora_for_sql(scope, weeks=weeks, now=now)
    return dora_for_python(scope, weeks=weeks, now=now)


def _window(now: datetime | None, weeks: int) -> tuple[datetime, datetime]:
    now = now or timezone.now()
    return now, week_start(now) - timedelta(weeks=weeks - 1)


def _releases(scope: Scope, start: datetime):
    return (
        Release.objects.filter(
            scope.releases_filter(),
            environment__is_production=True,
            created_at__gte=start - LONGEST_RELEASE,
        )
        .order_by()
        .annotate(**{f"{name}_s": _seconds(name) for name in TIMES})
        .values_list(
            "id",
            "component_id",
            "environment_id",
            "state",
            "finished_at_s",
            "committed_at_s",
            "rollback_of_id",
        )  # fmt: skip
    )


def _incidents(scope: Scope, start: datetime, now: datetime):
    found = Incident.objects.filter(
        urgency="high", created_at__gte=start, created_at__lte=now + INCIDENT_WINDOW
    )
    if scope.components is not None:
        found = found.filter(component__in=_components(scope.components))
    return found.order_by().annotate(at=_seconds("created_at")).values_list("component_id", "at")


def dora_for_sql(scope: Scope, *, weeks: int = DEFAULT_WEEKS, now: datetime | None = None) -> Dora:
    """PostgreSQL counts (`sql.dora_sql`): one query whatever the size of the ledger."""
    now, start = _window(now, weeks)
    return dora_sql(_releases(scope, start), _incidents(scope, start, now), weeks=weeks, now=now)


def dora_for_python(
    scope: Scope, *, weeks: int = DEFAULT_WEEKS, now: datetime | None = None
) -> Dora:
    """Every release of the window read, then counted in one pass (`metrics.dora_compute`)."""
    now, start = _window(now, weeks)
    found = _releases(scope, start)
    if connection.vendor == "postgresql":
        # Straight from the cursor: ten thousand rows need none of the ORM's converters.
        sql, params = found.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    else:
        rows = [ReleaseRow(*v[:4], _as_seconds(v[4]), _as_seconds(v[5]), v[6]) for v in found]
    incidents: dict[int, list[float]] = {}
    if rows:
        for component_id, created in _incidents(scope, start, now):
            incidents.setdefault(component_id, []).append(_as_seconds(created))
        for times in incidents.values():
            times.sort()
    return dora_compute(rows, incidents, weeks=weeks, now=now)
