from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog.models import Component, Dependency, Environment, Namespace, Team
from portal.models import TeamMembership


def test_seed_demo_builds_a_realistic_organisation(db):
    call_command("seed_demo", services=60)
    assert Namespace.objects.count() == 10
    assert Team.objects.count() == 25
    assert Component.objects.filter(parent__isnull=True).count() == 60
    assert Component.objects.filter(parent__isnull=False).count() >= 60
    assert set(Environment.objects.values_list("name", flat=True)) == {"dev", "staging", "prod"}
    kinds = set(Dependency.objects.values_list("kind", flat=True))
    assert kinds == {"sync", "event", "data"}
    assert Dependency.objects.filter(kind="event").exclude(topic="").exists()
    # A few hubs: the most depended-on service has many more dependents than the median one.
    counts = sorted(c.dependents.count() for c in Component.objects.filter(parent__isnull=True))
    assert counts[-1] >= 4 * max(1, counts[len(counts) // 2])
    alice = get_user_model().objects.get(username="alice")
    assert TeamMembership.objects.get(user=alice).role == "lead"
    assert get_user_model().objects.get(username="sam").groups.filter(name="sre").exists()
    # Knobs and runtime settings exist out of the box, so the demo shows them.
    from deployments.models import ControlPolicy, TuningKey

    prod_policy = ControlPolicy.objects.get(environment__name="prod", component=None)
    assert prod_policy.replicas_enabled and "other_teams" not in prod_policy.replicas_roles
    assert TuningKey.objects.filter(key="LOG_SAMPLING_RATE").count() == 60


def test_seed_demo_if_empty_leaves_an_existing_catalog_alone(db):
    Component.objects.create(name="mine")
    call_command("seed_demo", if_empty=True)
    assert Component.objects.count() == 1
    assert get_user_model().objects.filter(username="alice").exists()


def test_seed_demo_gives_the_dora_pages_twelve_weeks_of_history(db, client):
    from django.urls import reverse

    from deployments.models import EventSink, Release

    call_command("seed_demo", services=30)
    assert Release.objects.filter(environment__is_production=True, state="aborted").exists()
    assert Release.objects.filter(rollback_of__isnull=False).exists()
    assert EventSink.objects.filter(name="sandbox", enabled=True).exists()
    client.force_login(get_user_model().objects.get(username="pat"))
    rows = client.get(reverse("deployments:dora_organisation_csv")).content.decode().splitlines()
    weeks = [row.split(",") for row in rows[1:]]
    assert len(weeks) == 12 and all(int(week[1]) > 0 for week in weeks[1:])
