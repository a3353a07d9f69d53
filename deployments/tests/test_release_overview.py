"""The service page's releases card reads what runs, what is active and what is recent in two
queries; an active release older than the summary window is still shown."""

import pytest

from catalog.models import Component, Environment, Team
from deployments.models import Release
from deployments.releases.selectors import release_overview

pytestmark = pytest.mark.django_db


def test_overview_in_two_queries_finds_an_active_release_older_than_the_window(
    django_assert_num_queries,
):
    component = Component.objects.create(name="ledger", owner=Team.objects.create(name="pay"))
    staging = Environment.objects.create(name="staging", order=1)
    prod = Environment.objects.create(name="prod", order=2)
    stuck = Release.objects.create(
        component=component, environment=prod, version="0.9.0", state="paused"
    )
    done = [
        Release.objects.create(
            component=component, environment=staging, version=f"1.0.{n}", state="succeeded"
        )
        for n in range(4)
    ]
    Release.objects.filter(pk__in=[r.pk for r in done]).update(finished_at=stuck.created_at)
    with django_assert_num_queries(2):
        overview = release_overview(component, recent=2, window=3)
        assert [r.version for r in overview.active] == ["0.9.0"]
        assert overview.active[0].component.owner.name == "pay"
        assert [r.version for r in overview.recent] == ["1.0.3", "1.0.2"]
        assert overview.recent[0].environment.name == "staging"
    assert overview.running[staging.pk].version in {"1.0.1", "1.0.2", "1.0.3"}


def test_overview_of_a_component_never_released_is_one_query(django_assert_num_queries):
    component = Component.objects.create(name="lonely")
    with django_assert_num_queries(1):
        overview = release_overview(component)
    assert (overview.active, overview.recent, overview.running) == ([], [], {})
