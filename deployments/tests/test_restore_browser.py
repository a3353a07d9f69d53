"""A person restores the last good version from the service page, in the browser, against the
sandbox world: the canary in flight is aborted, the good version goes out through the workflow ->
GitOps commit -> Argo CD sync, the release page says how long it took, and kubectl shows it."""

import pytest

from deployments.models import Release
from deployments.releases.services import release_start
from deployments.releases.tasks import releases_tick
from deployments.tests.beat import beat_running
from integrations.tests.conftest import wait_until
from sandbox.demo import demo_versions

from . import test_one_world
from .test_one_world import SERVICE, kubectl_versions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
world = test_one_world.world  # the sandbox world with the real kubectl: staging and prod


@pytest.fixture
def beat():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("several threads write at once here: run with DATABASE_URL=postgres://...")
    with beat_running(releases_tick):
        yield


def start(world, version, strategy) -> Release:
    return release_start(
        actor=world["owner"], component=world["component"], environment=world["envs"]["staging"],
        version=version, strategy=strategy,
    )  # fmt: skip


def reaches(release, state: str, timeout=60) -> None:
    wait_until(lambda: Release.objects.get(pk=release.pk).state == state, timeout=timeout)


def test_restore_from_the_service_page_brings_back_the_last_good_version_and_kubectl_shows_it(
    world, live_server, login_page, beat
):
    old = demo_versions(SERVICE)
    good, bad = old[-2], old[-1]
    reaches(start(world, good, "rolling"), "succeeded")
    canary = start(world, bad, "canary")
    reaches(canary, "paused")
    page = login_page(world["owner"])
    page.goto(f"{live_server.url}{world['component'].get_absolute_url()}")
    restore = page.locator("[data-testid=restore-staging]")
    restore.get_by_text(f"Restore {good}").first.click()  # the summary opens the form
    restore.locator("textarea[name=reason]").fill("the canary breaks exports")
    restore.get_by_role("button", name=f"Restore {good}").click()
    page.wait_for_url("**/releases/*/")
    status = page.locator("[data-testid=restore-status]")
    assert "Restore of the last good version" in status.inner_text()
    # No reload: the status polls until the restore is live and healthy.
    status.filter(has_text="s after the click").filter(has_text="healthy").wait_for(timeout=60_000)
    restored = Release.objects.get(is_restore=True)
    assert (restored.version, restored.state) == (good, "succeeded")
    assert Release.objects.get(pk=canary.pk).state == "aborted"
    wait_until(lambda: kubectl_versions(world, "staging") == {good}, timeout=30)
