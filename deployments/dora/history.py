"""A plausible release history for the demo and the benchmark: weeks of production releases
(some aborted, some rolled back, a few followed by an incident), written in bulk.

Not a service: no person acts and nothing is sent anywhere. The demo seed and `manage.py bench`
call it on a fresh database only.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from oncall.models import Incident

from ..releases.models import Release, ReleaseEvent


@dataclass(frozen=True)
class HistoryPlan:
    weeks: int = 12
    per_week: float = 3.0  # production releases per service per week, on average
    abort_share: float = 0.06
    rollback_share: float = 0.05
    incident_share: float = 0.03


def _finished(rng: random.Random, start: datetime, weeks: int) -> datetime:
    return start + timedelta(seconds=rng.uniform(0, weeks * 7 * 86400))


def release_history_seed(
    *, components, environment, plan: HistoryPlan = HistoryPlan(), seed: int = 7, now=None
) -> dict:
    """Write the plan's releases of each component to `environment` (the production one), and
    the high-urgency incidents that followed some of them; returns the counts."""
    rng = random.Random(seed)
    now = now or timezone.now()
    start = now - timedelta(weeks=plan.weeks)
    releases, incidents, rollbacks = [], [], []
    for component in components:
        count = max(1, round(rng.gauss(plan.per_week * plan.weeks, plan.weeks / 2)))
        moments = sorted(_finished(rng, start, plan.weeks) for _ in range(count))
        previous = "1.0.0"
        for index, finished in enumerate(moments):
            version = f"1.{index // 10 + 1}.{index % 10}"
            roll = rng.random()
            state = Release.State.ABORTED if roll < plan.abort_share else Release.State.SUCCEEDED
            duration = timedelta(minutes=rng.uniform(3, 40))
            release = Release(
                component=component,
                environment=environment,
                version=version,
                previous_version=previous,
                strategy=Release.Strategy.CANARY if index % 3 else Release.Strategy.ROLLING,
                state=state,
                reason="seeded history",
                created_at=finished - duration,
                finished_at=finished,
                committed_at=finished - timedelta(hours=rng.lognormvariate(3.2, 0.9)),
                status_message="Seeded history",
            )
            releases.append(release)
            if state == Release.State.SUCCEEDED:
                if roll < plan.abort_share + plan.rollback_share:
                    rollbacks.append((release, previous))
                elif roll < plan.abort_share + plan.rollback_share + plan.incident_share:
                    incidents.append((component.pk, finished + timedelta(hours=rng.uniform(1, 20))))
                previous = version
    with transaction.atomic():
        Release.objects.bulk_create(releases, batch_size=2000)
        undo = [
            Release(
                component=bad.component,
                environment=environment,
                version=good,
                previous_version=bad.version,
                state=Release.State.SUCCEEDED,
                reason="seeded history: rolled back",
                rollback_of=bad,
                created_at=bad.finished_at + timedelta(minutes=20),
                finished_at=bad.finished_at + timedelta(minutes=rng.uniform(25, 180)),
                committed_at=None,
                status_message="Seeded history",
            )
            for bad, good in rollbacks
            if bad.finished_at + timedelta(hours=3) < now
        ]
        Release.objects.bulk_create(undo, batch_size=2000)
        ReleaseEvent.objects.bulk_create(
            [
                ReleaseEvent(
                    release=r, state=r.state, created_at=r.finished_at, message="Seeded history"
                )
                for r in releases + undo
            ],
            batch_size=2000,
        )
        Incident.objects.bulk_create(
            [
                Incident(
                    pagerduty_id=f"SEED{seed}-{n}",
                    component_id=component_id,
                    number=9000 + n,
                    title="Error rate above the SLO after a release (seeded history)",
                    urgency="high",
                    status="resolved",
                    created_at=moment,
                )
                for n, (component_id, moment) in enumerate(incidents)
                if moment < now
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
    return {"releases": len(releases) + len(undo), "incidents": len(incidents)}
