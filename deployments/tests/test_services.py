from datetime import timedelta

import pytest
from django.utils import timezone

from deployments.models import DeployFreeze, Release
from deployments.releases.errors import ReleaseRefused
from deployments.releases.services import (
    release_abort,
    release_promote,
    release_rollback,
    release_start,
)
from deployments.releases.transitions import release_transition
from portal.errors import PermissionDenied
from portal.models import AuditEvent


def start(actor, ledger, environments, env="staging", **extra):
    extra.setdefault("version", "v1.2.0")
    return release_start(actor=actor, component=ledger, environment=environments[env], **extra)


def test_owner_starts_a_release_which_is_queued_and_audited(
    owner, ledger, environments, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        release = start(owner, ledger, environments, reason="new ledger export")
    assert release.state == "queued"
    assert release.events.get().message == "olivia asked for v1.2.0 (Rolling update)"
    event = AuditEvent.objects.get(action="release.start")
    assert event.after["version"] == "v1.2.0" and event.reason == "new ledger export"
    assert len(callbacks) == 1  # the workflow is dispatched after commit, not before


def test_outsider_is_refused_and_nothing_is_created(outsider, ledger, environments):
    with pytest.raises(PermissionDenied):
        start(outsider, ledger, environments, env="prod")
    assert not Release.objects.exists()
    assert AuditEvent.objects.get().outcome == "denied"


def test_sre_may_release_any_service(sre, ledger, environments):
    assert start(sre, ledger, environments, env="prod").state == "queued"


def test_second_release_to_same_target_is_refused_with_reason(owner, ledger, environments):
    start(owner, ledger, environments)
    with pytest.raises(ReleaseRefused, match="already has a release in progress"):
        start(owner, ledger, environments, version="v1.3.0")
    assert Release.objects.count() == 1
    # Another environment is another target.
    assert start(owner, ledger, environments, env="prod").environment.name == "prod"


def test_freeze_blocks_with_its_reason(owner, ledger, environments):
    now = timezone.now()
    DeployFreeze.objects.create(
        environment=environments["prod"],
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
        reason="Black Friday",
    )
    with pytest.raises(ReleaseRefused, match="Black Friday"):
        start(owner, ledger, environments, env="prod")
    assert start(owner, ledger, environments, env="staging")


@pytest.mark.parametrize("version", ["", "  ", "v1 2", "../../etc"])
def test_bad_versions_are_refused(owner, ledger, environments, version):
    with pytest.raises(ReleaseRefused):
        start(owner, ledger, environments, version=version)
    assert not Release.objects.exists()


def test_canary_steps_must_rise_to_100(owner, ledger, environments):
    with pytest.raises(ReleaseRefused, match="must rise"):
        start(owner, ledger, environments, strategy="canary", canary_steps=[50, 25, 100])
    release = start(owner, ledger, environments, strategy="canary")
    assert release.steps == [5, 25, 50, 100]


def test_transition_is_conditional(owner, ledger, environments):
    release = start(owner, ledger, environments)
    assert release_transition(
        release_id=release.pk, from_states=["queued"], to_state="dispatching", message="claimed"
    )
    # A duplicate task finds the state moved on and changes nothing.
    assert not release_transition(
        release_id=release.pk,
        from_states=["queued"],
        to_state="dispatching",
        message="claimed again",
    )
    assert release.events.count() == 2


def paused_canary(owner, ledger, environments):
    release = start(owner, ledger, environments, strategy="canary")
    Release.objects.filter(pk=release.pk).update(
        state="paused",
        current_step=0,
        set_weight=5,
        observed_at=timezone.now(),  # just read
    )
    release.refresh_from_db()
    return release


def test_promote_twice_promotes_once(
    owner, ledger, environments, django_capture_on_commit_callbacks
):
    release = paused_canary(owner, ledger, environments)
    stale_copy = Release.objects.get(pk=release.pk)
    with django_capture_on_commit_callbacks() as callbacks:
        release_promote(actor=owner, release=release)
    assert len(callbacks) == 1
    with pytest.raises(ReleaseRefused, match="not paused"):
        release_promote(actor=owner, release=stale_copy)
    assert AuditEvent.objects.filter(action="release.promote").count() == 1


def test_abort_needs_a_reason_and_explains_state(owner, ledger, environments):
    release = paused_canary(owner, ledger, environments)
    with pytest.raises(ReleaseRefused, match="Say why"):
        release_abort(actor=owner, release=release, reason=" ")
    release = release_abort(actor=owner, release=release, reason="error rate up")
    assert release.state == "aborted" and release.finished_at
    assert "stable version" in release.status_message
    with pytest.raises(ReleaseRefused):
        release_abort(actor=owner, release=release, reason="again")


def test_outsider_cannot_abort(owner, outsider, ledger, environments):
    release = paused_canary(owner, ledger, environments)
    with pytest.raises(PermissionDenied):
        release_abort(actor=outsider, release=release, reason="mine now")
    release.refresh_from_db()
    assert release.state == "paused"


def test_rollback_releases_the_previous_version(owner, ledger, environments):
    first = start(owner, ledger, environments, version="v1.0.0")
    release_transition(
        release_id=first.pk, from_states=["queued"], to_state="succeeded", message="ok"
    )
    second = start(owner, ledger, environments, version="v1.1.0")
    assert second.previous_version == "v1.0.0"
    release_transition(
        release_id=second.pk, from_states=["queued"], to_state="failed", message="bad"
    )
    second.refresh_from_db()
    rollback = release_rollback(actor=owner, release=second, reason="v1.1.0 breaks exports")
    assert (rollback.version, rollback.rollback_of, rollback.strategy) == (
        "v1.0.0",
        second,
        "rolling",
    )
    assert AuditEvent.objects.filter(action="release.rollback").exists()
