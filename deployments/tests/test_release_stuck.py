"""No stuck state (issue 12, item 9): polling that fails for too long fails the release and
frees its target; a signal Argo CD refuses is shown on the release and does not flip it."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from deployments.models import Release
from deployments.releases import machine
from deployments.releases.services import release_promote


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def progressing(ledger, environments, owner):
    return Release.objects.create(
        component=ledger,
        environment=environments["prod"],
        version="v2",
        strategy="canary",
        canary_steps=[5, 25, 50, 100],
        state="paused",
        current_step=0,
        set_weight=5,
        requested_by=owner,
        observed_at=timezone.now(),  # the worker read it just now
    )


def test_polling_that_keeps_failing_fails_the_release_and_frees_the_target(
    progressing, settings, owner
):
    settings.INTEGRATION_URLS = {"argocd": _closed_port(), "github": _closed_port()}
    settings.INTEGRATION_TIMEOUT_SECONDS = 1
    machine.release_poll_run(release_id=progressing.pk)
    progressing.refresh_from_db()
    assert progressing.state == "paused" and progressing.poll_failing_since is not None
    assert "Still trying" in progressing.last_error

    Release.objects.filter(pk=progressing.pk).update(
        poll_failing_since=timezone.now()
        - timedelta(seconds=settings.RELEASE_POLL_FAIL_AFTER_SECONDS + 1)
    )
    machine.release_poll_run(release_id=progressing.pk)
    progressing.refresh_from_db()
    assert progressing.state == "failed" and progressing.finished_at is not None
    assert "could not follow this release" in progressing.last_error
    assert progressing.events.get(state="failed").message.startswith("Polling failed for")
    # The target is free: a new release of the service there is accepted.
    Release.objects.create(
        component=progressing.component, environment=progressing.environment, version="v3"
    )


def test_a_refused_promote_is_shown_and_the_release_stays_paused(
    progressing, owner, arm_fault, client, django_capture_on_commit_callbacks
):
    arm_fault("argocd", path="/api/v1/applications/ledger-prod", status=400)
    with django_capture_on_commit_callbacks(execute=True):
        release_promote(actor=owner, release=progressing, full=False)
    progressing.refresh_from_db()
    assert progressing.state == "paused"
    assert "Argo CD refused “resume”" in progressing.signal_error
    states = list(progressing.events.order_by("pk").values_list("state", flat=True))
    assert states == ["progressing", "paused"]  # once back, with the reason; no flipping
    client.force_login(owner)
    page = client.get(progressing.get_absolute_url())
    assert "Argo CD refused" in page.content.decode()
