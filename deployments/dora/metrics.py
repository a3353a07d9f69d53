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

INCIDENT_WINDOW = timedelta(hours=24)
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


@dataclass(frozen=True)
class ReleaseRow:
    id: int
    component_id: int
    environment_id: int
    state: str
    finished_at: datetime | None
    committed_at: datetime | None
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


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def dora_compute(
    releases: list[ReleaseRow],
    incidents: dict[int, list[datetime]],
    *,
    weeks: int,
    now: datetime,
) -> Dora:
    """The four keys for the `weeks` weeks up to `now` (the current week last).

    `releases`: production releases of the scope (any state), including those that finished
    after the window's start; `incidents`: high-urgency incident times by component.
    """
    first = week_start(now) - timedelta(weeks=weeks - 1)
    buckets = [Week(start=first + timedelta(weeks=i)) for i in range(weeks)]

    def bucket(moment: datetime) -> Week | None:
        index = (moment - first).days // 7
        return buckets[index] if 0 <= index < weeks else None

    rolled_back = {r.rollback_of_id for r in releases if r.rollback_of_id}
    healthy: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for r in releases:
        if r.state == SUCCEEDED and r.finished_at:
            healthy[(r.component_id, r.environment_id)].append(r.finished_at)
    for times in healthy.values():
        times.sort()
    for r in releases:
        if r.state not in (SUCCEEDED, ABORTED) or r.finished_at is None:
            continue
        week = bucket(r.finished_at)
        if week is None:
            continue
        week.changes += 1
        if r.state == SUCCEEDED:
            week.deployments += 1
            if r.committed_at and r.committed_at <= r.finished_at:
                week.lead_hours.append(_hours(r.finished_at - r.committed_at))
        failed_at = _failure(r, rolled_back, incidents.get(r.component_id, ()))
        if failed_at is None:
            continue
        week.failures += 1
        times = healthy[(r.component_id, r.environment_id)]
        later = bisect_right(times, failed_at)
        if later < len(times):
            failed_week = bucket(failed_at) or week
            failed_week.restore_hours.append(_hours(times[later] - failed_at))
    return Dora(weeks=buckets)


def _failure(r: ReleaseRow, rolled_back: set[int], incident_times) -> datetime | None:
    """When this change failed, or None when it did not."""
    if r.state == ABORTED or r.id in rolled_back:
        return r.finished_at
    for moment in incident_times:
        if r.finished_at <= moment <= r.finished_at + INCIDENT_WINDOW:
            return moment
    return None
