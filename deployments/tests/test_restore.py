"""Restore the last good version: a canary in flight is aborted, the last version that succeeded
is released through the workflow -> GitOps commit -> Argo CD sync, and kubectl shows it."""

import pytest
from django.urls import reverse

from catalog.models import Component, Environment
from deployments.models import Release
from deployments.releases.errors import ReleaseRefused
from deployments.releases.restore import release_restore, restore_plan
from portal.models import AuditEvent
from sandbox.demo import demo_versions

from . import test_one_world
from .test_one_world import SERVICE, follow, kubectl_versions, release

world = test_one_world.world  # the sandbox world with kubectl: staging and prod


def test_restore_aborts_the_canary_and_brings_back_the_last_good_version(
    world, client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    old = demo_versions(SERVICE)
    good = release(world, capture, "staging", old[-2])
    follow(good, {"succeeded"})
    bad = release(world, capture, "staging", old[-1], strategy="canary")
    follow(bad, {"paused"})
    client.force_login(world["owner"])
    service_page = client.get(world["component"].get_absolute_url()).content.decode()
    releases_card = client.get(
        reverse("deployments:panel_releases", args=[world["component"].pk])
    ).content.decode()
    assert f"Restore {old[-2]}" in releases_card or f"Restore {old[-2]}" in service_page
    with capture(execute=True):
        response = client.post(
            reverse("deployments:release_restore", args=[world["component"].pk, "staging"]),
            {"reason": "the canary breaks exports"},
        )
    restored = Release.objects.get(is_restore=True)
    assert response.status_code == 302 and response["Location"] == restored.get_absolute_url()
    bad.refresh_from_db()
    assert bad.state == "aborted"
    assert (restored.version, restored.strategy, restored.rollback_of) == (old[-2], "rolling", bad)
    follow(restored, {"succeeded"})
    test_one_world.wait_until(lambda: kubectl_versions(world, "staging") == {old[-2]}, timeout=30)
    page = client.get(restored.get_absolute_url()).content.decode()
    assert f"healthy {restored.seconds_to_healthy} s after the click" in page
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("release.restore") == 1 and "release.abort" in actions


@pytest.mark.django_db
def test_restore_needs_a_reason_and_an_earlier_good_version(make_user):
    from catalog.models import Team
    from portal.models import TeamMembership

    team = Team.objects.create(name="payments")
    component = Component.objects.create(name="ledger", owner=team)
    env = Environment.objects.create(name="staging")
    owner = make_user("olivia")
    TeamMembership.objects.create(user=owner, team=team)
    Release.objects.create(component=component, environment=env, version="1.0.0", state="failed")
    assert restore_plan(component, env)[1] == ""
    with pytest.raises(ReleaseRefused, match="nothing to restore"):
        release_restore(actor=owner, component=component, environment=env, reason="broken")
    with pytest.raises(ReleaseRefused, match="Say why"):
        release_restore(actor=owner, component=component, environment=env, reason=" ")
    assert Release.objects.count() == 1
