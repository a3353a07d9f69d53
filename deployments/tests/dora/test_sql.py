"""The PostgreSQL count and the Python pass give the same DORA figures on the same ledger."""

from dataclasses import asdict
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from deployments.dora.history import HistoryPlan, release_history_seed
from deployments.dora.selectors import Scope, dora_for, dora_for_python, dora_for_sql
from deployments.models import Release
from oncall.models import Incident
from portal.tests.factories import ComponentFactory, TeamFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="counts inside PostgreSQL"),
]
PLAN = HistoryPlan(weeks=14, per_week=5, abort_share=0.15, rollback_share=0.1, incident_share=0.1)


def _edge_cases(component, prod, staging, now):
    """What random history rarely hits: a healthy release at the failure's very second, an
    incident restored in a later week, low-urgency incidents, other states and environments."""
    t = now - timedelta(days=9)

    def release(state, finished, environment=prod, **fields):
        return Release.objects.create(
            component=component, environment=environment, version="9.9.9", state=state,
            created_at=finished - timedelta(minutes=5), finished_at=finished, **fields,
        )  # fmt: skip

    release("aborted", t)
    release("succeeded", t, committed_at=t - timedelta(hours=3))  # same second: not a restore
    release("succeeded", t + timedelta(days=8))  # restores both failures, a week later
    release("failed", t + timedelta(hours=1))
    release("succeeded", t + timedelta(hours=2), environment=staging)
    Release.objects.create(component=component, environment=prod, version="9.9.10",
                           state="queued", created_at=now)  # fmt: skip
    Incident.objects.create(
        pagerduty_id="EDGE-1", component=component, number=1, title="low", urgency="low",
        status="resolved", created_at=t + timedelta(hours=1),
    )  # fmt: skip


def _scopes(team, component):
    return [
        Scope("organisation", "Organisation", None),
        Scope("team", str(team), Q(owner=team)),
        Scope("service", str(component), Q(pk=component.pk)),
    ]


@pytest.mark.parametrize("weeks", [1, 4, 12, 52])
def test_postgresql_counts_what_the_python_pass_counts(environments, weeks):
    now = timezone.now()
    team = TeamFactory()
    components = [ComponentFactory(owner=team if n % 3 else None) for n in range(12)]
    release_history_seed(
        components=components, environment=environments["prod"], plan=PLAN, now=now
    )
    _edge_cases(components[1], environments["prod"], environments["staging"], now)
    for scope in _scopes(team, components[1]):
        in_sql = dora_for_sql(scope, weeks=weeks, now=now)
        in_python = dora_for_python(scope, weeks=weeks, now=now)
        assert asdict(in_sql) == asdict(in_python), scope.kind
    organisation = dora_for_sql(_scopes(team, components[1])[0], weeks=weeks, now=now)
    assert organisation.deployments > 0 and sum(w.failures for w in organisation.weeks) > 0
    if weeks >= 4:
        assert organisation.restore_time_hours is not None
        assert sum(w.restored for w in organisation.weeks) > 0


def test_an_empty_ledger_counts_nothing_on_either_path(environments):
    now = timezone.now()
    scope = Scope("organisation", "Organisation", None)
    assert asdict(dora_for_sql(scope, now=now)) == asdict(dora_for_python(scope, now=now))
    assert dora_for(scope, now=now).deployments == 0


def test_postgresql_counts_in_one_query(environments, django_assert_num_queries):
    release_history_seed(
        components=[ComponentFactory()], environment=environments["prod"], plan=PLAN
    )
    with django_assert_num_queries(1):
        dora_for(Scope("organisation", "Organisation", None))
