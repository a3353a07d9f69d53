"""The Slack channel of the outbox: one message per team channel for each kind of thing
announced, per-person preferences, and a duplicate or late task sending nothing twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deployments.models import Release
from deployments.releases.transitions import release_transition
from notifications import services, tasks
from notifications.events import reminders_send
from notifications.models import Notification
from sandbox.tests import fixtures

slack_world = fixtures.slack_world


@pytest.fixture
def team(owner, sre, payments, slack_world):
    payments.chat_channel = "#payments"
    payments.save()
    slack_world.channel("payments")
    return {"owner": owner, "sre": sre}


def test_a_failed_release_is_said_once_in_the_team_channel(
    ledger, environments, team, slack_world, django_capture_on_commit_callbacks
):
    release = Release.objects.create(component=ledger, environment=environments["prod"],
                                     version="2.0.0", requested_by=team["owner"])  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        release_transition(release_id=release.pk, from_states=["queued"], to_state="aborted",
                           message="aborted", status_message="olivia aborted it")  # fmt: skip
    (message,) = slack_world.messages("payments")
    assert "Release of ledger 2.0.0 to prod aborted" in message["text"]
    assert "olivia aborted it" in str(message["blocks"])
    row = Notification.objects.get(channel="slack")
    assert tasks.deliver.apply(args=[row.pk]).get() == "skipped"  # duplicate task
    assert len(slack_world.messages("payments")) == 1


def test_a_reverting_override_is_said_in_the_team_channel(
    ledger, environments, team, slack_world, django_capture_on_commit_callbacks
):
    from deployments.controls.models import TuningKey, TuningValue

    key = TuningKey.objects.create(component=ledger, key="log_sampling", kind="sampling",
                                   default=0.1)  # fmt: skip
    TuningValue.objects.create(
        key=key, environment=environments["prod"], override_value=1.0,
        override_until=timezone.now() + timedelta(minutes=3), override_by=team["sre"],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send()
    (message,) = slack_world.messages("payments")
    assert message["text"].startswith("log_sampling of ledger in prod reverts at")


def test_nobody_wanting_slack_means_no_message_and_one_wanting_it_is_enough(
    ledger, environments, team, slack_world, django_capture_on_commit_callbacks
):
    for user in team.values():
        services.preferences_set(actor=user, enabled={("release.failed", "portal")})
    release = Release.objects.create(component=ledger, environment=environments["prod"],
                                     version="2.0.0")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        release_transition(release_id=release.pk, from_states=["queued"], to_state="failed",
                           message="failed")  # fmt: skip
    assert slack_world.messages("payments") == []
    services.preferences_set(actor=team["owner"], enabled={("release.aborted", "slack")})
    other = Release.objects.create(component=ledger, environment=environments["prod"],
                                   version="2.0.1")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        release_transition(release_id=other.pk, from_states=["queued"], to_state="aborted",
                           message="aborted")  # fmt: skip
    assert len(slack_world.messages("payments")) == 1


def test_the_settings_page_offers_the_slack_channel(team, client):
    client.force_login(team["owner"])
    page = client.get("/notifications/settings/").content.decode()
    assert "Team&#x27;s Slack channel" in page or "Team's Slack channel" in page
    assert 'name="approval.requested|slack"' in page


def test_a_team_without_a_chat_channel_gets_no_slack_row(
    ledger, environments, owner, slack_world, django_capture_on_commit_callbacks
):
    release = Release.objects.create(component=ledger, environment=environments["prod"],
                                     version="2.0.0")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        release_transition(release_id=release.pk, from_states=["queued"], to_state="failed",
                           message="failed")  # fmt: skip
    assert not Notification.objects.filter(channel="slack").exists()
