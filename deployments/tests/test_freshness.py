"""Truth under faults: the release page says how old its state is, turns off actions on a stale
state, and a decision is checked against the cluster before it is sent."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deployments.models import Release
from deployments.releases.errors import ReleaseRefused
from deployments.releases.services import release_promote
from integrations.argocd import argocd_client
from integrations.tests.conftest import wait_until

from .test_release_flow import SERVICE, follow, shop, start  # noqa: F401


def _paused_release(shop, **fields) -> Release:  # noqa: F811
    release = Release.objects.create(
        component=shop["component"],
        environment=shop["envs"]["prod"],
        version="9.9.9",
        strategy="canary",
        state="paused",
        current_step=0,
        set_weight=5,
        requested_by=shop["owner"],
        **fields,
    )
    return release


def test_page_says_how_old_the_state_is_and_turns_promote_off_when_stale(shop, client):  # noqa: F811
    client.force_login(shop["owner"])
    fresh = _paused_release(shop, observed_at=timezone.now() - timedelta(seconds=3))
    html = client.get(reverse("deployments:release_detail", args=[fresh.pk])).content.decode()
    seconds = int(re.search(r"State read (\d+) s ago", html)[1])
    assert 3 <= seconds < 20 and "disabled" not in html  # a busy machine renders a bit later
    Release.objects.filter(pk=fresh.pk).update(observed_at=timezone.now() - timedelta(seconds=110))
    html = client.get(reverse("deployments:release_detail", args=[fresh.pk])).content.decode()
    assert re.search(r"State read 11\d s ago", html)
    assert "the worker or Argo CD is not answering" in html
    assert html.count("disabled title=") == 2  # both Promote buttons, with the reason


def test_promote_of_a_rollout_that_finished_meanwhile_is_refused_not_sent(
    shop,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    release = start(shop, "prod", django_capture_on_commit_callbacks, strategy="canary")
    follow(release, {"paused"})
    # Someone finishes the rollout in Argo CD while Switchyard's worker is down.
    argocd_client().rollout_action(f"{SERVICE}-prod", "promote-full")
    wait_until(lambda: argocd_client().application_get(f"{SERVICE}-prod").rollout.completed)
    Release.objects.filter(pk=release.pk).update(observed_at=timezone.now() - timedelta(minutes=2))
    release.refresh_from_db()
    assert release.state == "paused"  # what the page still shows
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(ReleaseRefused, match="moved on since this page was drawn"):
            release_promote(actor=shop["owner"], release=release)
    # no signal was sent (the finish seen meanwhile only schedules its PagerDuty change event)
    assert [c for c in callbacks if "release_transition" not in c.__qualname__] == []
    release.refresh_from_db()
    assert release.state == "succeeded" and release.actual_weight == 100
    assert not release.events.filter(message__contains="promoted").exists()


def test_promote_is_refused_when_argocd_cannot_be_read(shop, arm_fault):  # noqa: F811
    release = _paused_release(shop, observed_at=timezone.now() - timedelta(minutes=2))
    arm_fault("argocd", path="/api/v1/applications", kind="error", status=503)
    with pytest.raises(ReleaseRefused, match="Argo CD cannot be read now"):
        release_promote(actor=shop["owner"], release=release)
    release.refresh_from_db()
    assert release.state == "paused" and not release.events.exists()


def test_an_approval_decision_is_checked_against_the_cluster_before_anything_is_sent(
    shop,  # noqa: F811
    arm_fault,
    django_capture_on_commit_callbacks,
):
    from approvals.models import ApprovalPolicy, ApprovalRequest
    from approvals.services import approval_decide

    ApprovalPolicy.objects.get_or_create(environment=shop["envs"]["prod"])
    release = _paused_release(shop, observed_at=timezone.now() - timedelta(minutes=2))
    approval = ApprovalRequest.objects.create(
        component=shop["component"], environment=shop["envs"]["prod"], release=release,
        rollout_phase="canary 5% verified", weight=5, requested_by=shop["owner"],
        expires_at=timezone.now() + timedelta(minutes=30),
    )  # fmt: skip
    arm_fault("argocd", path="/api/v1/applications", kind="error", status=503)
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(ReleaseRefused, match="Argo CD cannot be read now"):
            approval_decide(actor=shop["colleague"], approval=approval, decision="approve")
    assert callbacks == []
    approval.refresh_from_db()
    assert approval.state == "pending" and not approval.votes.exists()
