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

import statistics
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
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
    start: datetime
    deployments: int = 0
    changes: int = 0
    failures: int = 0
    lead_hours: list[float] = field(default_factory=list)
    restore_hours: list[float] = field(default_factory=list)

    @property
    def lead_time_hours(self) -> float | None:
        return _median(self.lead_hours)

    @property
    def failure_rate(self) -> float | None:
        """Percent of the week's changes that failed; None without changes."""
        return round(100 * self.failures / self.changes, 1) if self.changes else None

    @property
    def restore_time_hours(self) -> float | None:
        return _median(self.restore_hours)


@dataclass
class Dora:
    weeks: list[Week]

    @property
    def deployments(self) -> int:
        return sum(w.deployments for w in self.weeks)

    @property
    def per_week(self) -> float:
        return round(self.deployments / len(self.weeks), 1) if self.weeks else 0.0

    @property
    def lead_time_hours(self) -> float | None:
        return _median([h for w in self.weeks for h in w.lead_hours])

    @property
    def failure_rate(self) -> float | None:
        changes = sum(w.changes for w in self.weeks)
        failures = sum(w.failures for w in self.weeks)
        return round(100 * failures / changes, 1) if changes else None

    @property
    def restore_time_hours(self) -> float | None:
        return _median([h for w in self.weeks for h in w.restore_hours])


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


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
    after the window's start; `incidents`: high-urgency incident times by component. Times are
    POSIX seconds.
    """
    first_week = week_start(now) - timedelta(weeks=weeks - 1)
    first = first_week.timestamp()
    buckets = [Week(start=first_week + timedelta(weeks=i)) for i in range(weeks)]

    def bucket(moment: float) -> Week | None:
        index = int((moment - first) // WEEK)
        return buckets[index] if 0 <= index < weeks else None

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
        index = int((finished - first) // WEEK)
        if not 0 <= index < weeks:
            continue
        week = buckets[index]
        week.changes += 1
        failed_at = None
        if state == SUCCEEDED:
            week.deployments += 1
            if committed and committed <= finished:
                week.lead_hours.append((finished - committed) / HOUR)
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
            failed_week = bucket(failed_at) or week
            failed_week.restore_hours.append((times[later] - failed_at) / HOUR)
    return Dora(weeks=buckets)


def _incident_after(finished: float, incident_times, window: float) -> float | None:
    """The first high-urgency incident within `window` after a release went live."""
    for moment in incident_times or ():
        if finished <= moment <= finished + window:
            return moment
    return None
