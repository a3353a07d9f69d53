"""One beat tick over several releases: one Argo CD listing, then each release's Rollout."""

import pytest

from catalog.models import Component, ComponentEnvironment, Environment
from deployments.models import Release
from deployments.releases import machine
from sandbox.demo import demo_service_names

SERVICES = demo_service_names(8)[:3]


@pytest.fixture
def progressing(db, release_sandbox, make_user):
    user = make_user("olivia")
    staging = Environment.objects.create(name="staging", order=2)
    releases = []
    for name in SERVICES:
        component = Component.objects.create(name=name)
        ComponentEnvironment.objects.create(
            component=component, environment=staging, argocd_application=f"{name}-staging"
        )
        releases.append(
            Release.objects.create(
                component=component,
                environment=staging,
                version="v0.0.1",
                state=Release.State.PROGRESSING,
                requested_by=user,
                sync_status="Unknown",
                health_status="Unknown",
            )
        )
    return releases


def test_a_sweep_polls_every_release_from_one_listing(progressing, release_sandbox):
    machine.releases_sweep([r.pk for r in progressing], concurrency=1)
    for release in progressing:
        release.refresh_from_db()
        assert (release.sync_status, release.health_status) == ("Synced", "Healthy")


def test_a_sweep_still_polls_when_the_listing_fails(progressing, release_sandbox, settings):
    # A token Argo CD refuses: the listing fails, each release then reports the failure itself.
    settings.ARGOCD_TOKEN = "refused-token"
    machine.releases_sweep([r.pk for r in progressing], concurrency=1)
    for release in progressing:
        release.refresh_from_db()
        assert release.state == Release.State.PROGRESSING
        assert "401" in release.last_error
