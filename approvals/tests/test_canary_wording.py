"""Honest canary wording: the weight now, what each button does next, steps in words."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import ApprovalRequest
from deployments.models import Release
from deployments.releases.machine import pause_reason_text
from portal.models import TeamMembership


@pytest.fixture
def colleague(make_user, payments):
    user = make_user("camila")
    TeamMembership.objects.create(user=user, team=payments)
    return user


@pytest.fixture
def canary(ledger, environments, owner):
    """A canary paused at its first step (5 %) while the rollout already shows 25 %."""
    return Release.objects.create(
        component=ledger, environment=environments["prod"], version="1.3.0",
        previous_version="1.2.0", strategy="canary", canary_steps=[5, 25, 50, 100],
        requested_by=owner, state="paused", current_step=0, set_weight=5, actual_weight=25,
    )  # fmt: skip


@pytest.fixture
def approval(canary, owner):
    return ApprovalRequest.objects.create(
        component=canary.component, environment=canary.environment, release=canary,
        rollout_phase="canary 5%", weight=5, requested_by=owner, requester_label="olivia",
        from_version="1.2.0", to_version="1.3.0",
        expires_at=timezone.now() + timedelta(minutes=30),
    )  # fmt: skip


def test_approval_says_the_weight_now_and_what_approve_does(client, colleague, approval):
    client.force_login(colleague)
    html = client.get(approval.get_absolute_url()).content.decode()
    assert "now 25% of traffic on the new version" in html and "(asked at 5%)" in html
    assert "Approve: go on to 25%" in html
    assert "then 50%, 100% by itself" in html
    assert "Promote fully (100% now)" in html
    assert "Approve (next step)" not in html


def test_release_page_says_what_promote_does_next(client, owner, canary):
    client.force_login(owner)
    html = client.get(canary.get_absolute_url()).content.decode()
    assert "moves 25% of traffic to 1.3.0; the rollout then goes on to 50%, 100% by itself" in html
    assert "“Promote fully” sends all traffic to 1.3.0 now." in html


def test_pause_reasons_have_human_names():
    assert pause_reason_text("CanaryPauseStep") == "a canary step waiting for a go-ahead"
    assert pause_reason_text("SomethingNew") == "SomethingNew"
