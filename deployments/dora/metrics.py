"""DORA's four keys over weeks, from plain rows of the release ledger: no queries here.

The definitions (also shown beside the charts, and in docs/dora.md):

- deployment frequency: production releases that succeeded, per week of their finish;
- lead time for changes: from the version's commit (GitHub, recorded when the workflow started)
  to the production release's success; the week's median;
- change failure rate: of the week's production changes (releases that succeeded or were
  aborted), those that failed: aborted, later rolled back or restored, or followed within 24 h
  of going live by a high-urgency incident on the service;
- time to restore: from a failure (the abort, the bad version going live, the incident) to the
  next production release of that service in that environment that succeeded; the median, in
  the week of the failure.
"""

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

INCIDENT_WINDOW = timedelta(hours=24)
WEEK = 7 * 86400.0
HOUR = 3600.0
# Shown beside the charts: one sentence per key, the same words as the module docstring.
DEFINITIONS = {
    "deployments": "Production releases that succeeded, counted in the week they finished.",
    "lead_time": "From the version's commit (read from GitHub when the release started) to its "
    "production release succeeding; the median of the week.",
    "failure_rate": "Of the week's production changes (releases that succeeded or were aborted), "
    "the share that failed: aborted, later rolled back or restored, or followed within 24 h by "
    "a high-urgency PagerDuty incident on the service.",
    "restore_time": "From a failure (the abort, the bad version going live, or the incident) to "
    "the next production release of that service and environment that succeeded; the median, "
    "in the week of the failure.",
}
SUCCEEDED, ABORTED = "succeeded", "aborted"


class ReleaseRow(NamedTuple):
    """One production release; times are POSIX seconds (cheap to read by the thousand)."""

    id: int
    component_id: int
    environment_id: int
    state: str
    finished_at: float | None
    committed_at: float | None
    rollback_of_id: int | None


@dataclass
class Week:
    """One week's counts and medians (hours, rounded to 0.1); the same from either path."""

    start: datetime
    deployments: int = 0
    changes: int = 0
    failures: int = 0
    lead_time_hours: float | None = None
    restored: int = 0  # failures of the week restored since (they have a time to restore)
    restore_time_hours: float | None = None

    @property
    def failure_rate(self) -> float | None:
        """Percent of the week's changes that failed; None without changes."""
        return round(100 * self.failures / self.changes, 1) if self.changes else None


@dataclass
class Dora:
    weeks: list[Week]
    lead_time_hours: float | None = None  # the median over every week, not of the medians
    restore_time_hours: float | None = None

    @property
    def deployments(self) -> int:
        return sum(w.deployments for w in self.weeks)

    @property
    def per_week(self) -> float:
        return round(self.deployments / len(self.weeks), 1) if self.weeks else 0.0

    @property
    def failure_rate(self) -> float | None:
        changes = sum(w.changes for w in self.weeks)
        failures = sum(w.failures for w in self.weeks)
        return round(100 * failures / changes, 1) if changes else None


def median_hours(values) -> float | None:
    """The median as PostgreSQL's percentile_cont(0.5) computes it (lo + (hi - lo) * 0.5, in
    doubles), rounded to 0.1 h: the SQL path and this one give the same figure to the bit."""
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    lo = ordered[(n - 1) // 2]
    middle = lo if n % 2 else lo + (ordered[n // 2] - lo) * 0.5
    return round(middle, 1)


def week_index(moment: float, first: float) -> int:
    """The week a moment (POSIX seconds) falls in, counted from `first`: floor, as in SQL."""
    return math.floor((moment - first) / WEEK)


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 of the moment's week, in the moment's timezone (UTC here)."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def dora_compute(
    releases: list[ReleaseRow],
    incidents: dict[int, list[float]],
    *,
    weeks: int,
    now: datetime,
) -> Dora:
    """The four keys for the `weeks` weeks up to `now` (the current week last).

    `releases`: production releases of the scope (any state), including those that finished
    after the window's start; `incidents`: high-urgency incident times by component, each list
    in order. Times are POSIX seconds. `sql.dora_sql` is the same count inside PostgreSQL.
    """
    first_week = week_start(now) - timedelta(weeks=weeks - 1)
    first = first_week.timestamp()
    buckets = [Week(start=first_week + timedelta(weeks=i)) for i in range(weeks)]
    lead: list[list[float]] = [[] for _ in buckets]
    restore: list[list[float]] = [[] for _ in buckets]

    # Rows are unpacked, not read by attribute: this loop sees every release of the window.
    rolled_back = {row[6] for row in releases if row[6]}
    healthy: dict[tuple[int, int], list[float]] = defaultdict(list)
    for _pk, component, environment, state, finished, _committed, _rb in releases:
        if state == SUCCEEDED and finished:
            healthy[(component, environment)].append(finished)
    for times in healthy.values():
        times.sort()
    window = INCIDENT_WINDOW.total_seconds()
    for pk, component, environment, state, finished, committed, _rb in releases:
        if finished is None or (state != SUCCEEDED and state != ABORTED):
            continue
        index = week_index(finished, first)
        if not 0 <= index < weeks:
            continue
        week = buckets[index]
        week.changes += 1
        failed_at = None
        if state == SUCCEEDED:
            week.deployments += 1
            if committed and committed <= finished:
                lead[index].append((finished - committed) / HOUR)
            if pk in rolled_back:
                failed_at = finished
            else:
                failed_at = _incident_after(finished, incidents.get(component), window)
        else:
            failed_at = finished  # aborted
        if failed_at is None:
            continue
        week.failures += 1
        times = healthy[(component, environment)]
        later = bisect_right(times, failed_at)
        if later < len(times):
            failed_index = week_index(failed_at, first)
            failed_index = failed_index if failed_index < weeks else index
            restore[failed_index].append((times[later] - failed_at) / HOUR)
    for week, leads, restores in zip(buckets, lead, restore, strict=True):
        week.lead_time_hours = median_hours(leads)
        week.restored = len(restores)
        week.restore_time_hours = median_hours(restores)
    return Dora(
        weeks=buckets,
        lead_time_hours=median_hours([h for hours in lead for h in hours]),
        restore_time_hours=median_hours([h for hours in restore for h in hours]),
    )


def _incident_after(finished: float, incident_times, window: float) -> float | None:
    """The first high-urgency incident within `window` after a release went live (the times
    are in order)."""
    for moment in incident_times or ():
        if finished <= moment <= finished + window:
            return moment
    return None
