"""The outbox: who is told, by which channel, exactly once; delivery never blocks a decision."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalRequest
from deployments.models import Release
from deployments.releases.transitions import release_transition
from notifications import services, tasks
from notifications.events import approval_requested_notify
from notifications.models import Notification, NotificationPreference


@pytest.fixture
def approval(ledger, environments, make_user):
    requester = make_user("rita", email="rita@example.com")
    return ApprovalRequest.objects.create(
        component=ledger, environment=environments["prod"], rollout_phase="canary 5% verified",
        requested_by=requester, requester_label="rita", to_version="1.5.0",
        expires_at=timezone.now() + timedelta(minutes=30),
    )  # fmt: skip


@pytest.fixture
def team(owner, sre, outsider, payments, make_user):
    from portal.models import TeamMembership

    owner.email = "olivia@example.com"
    owner.save()
    lead = make_user("leo", email="leo@example.com")
    TeamMembership.objects.create(user=lead, team=payments, role="lead")
    return {"owner": owner, "lead": lead, "sre": sre, "outsider": outsider}


def test_an_approval_request_reaches_the_eligible_approvers_in_the_portal_and_by_email(
    approval, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = approval_requested_notify(approval)
    told = set(Notification.objects.values_list("user__username", "channel"))
    # the owning team and the SRE; never the requester, never another team
    assert {name for name, _ in told} == {"olivia", "leo", "sasha"}
    assert ("olivia", "email") in told and ("olivia", "portal") in told
    assert created == len(told)
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
    olivia = next(m for m in mail.outbox if m.to == ["olivia@example.com"])
    assert "Approve ledger in prod?" in olivia.subject
    assert f"/approvals/{approval.pk}/" in olivia.body


def test_announcing_twice_and_delivering_twice_change_nothing(
    approval, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        approval_requested_notify(approval)
        assert approval_requested_notify(approval) == 0
    sent = len(mail.outbox)
    row = Notification.objects.filter(channel="email").first()
    assert tasks.deliver.apply(args=[row.pk]).get() == "skipped"
    assert len(mail.outbox) == sent


def test_a_failing_mail_server_is_retried_then_given_up_and_never_blocks(
    approval, team, settings, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(1)
        raise smtplib.SMTPServerDisconnected("down")

    monkeypatch.setattr("notifications.channels.send_mail", refuse)  # the mail server, not ours
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        approval_requested_notify(approval)
    row = Notification.objects.get(user=team["owner"], channel="email")
    for _ in range(5):
        services.notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert row.state == "failed" and row.attempts == 5 and "down" in row.last_error
    assert len(calls) == 5
    assert callbacks  # delivery was scheduled on commit, not done inside the transaction


def test_a_row_left_sending_by_a_dead_worker_is_delivered_again(approval, team):
    approval_requested_notify(approval)
    row = Notification.objects.filter(channel="email").first()
    Notification.objects.filter(pk=row.pk).update(
        state="sending", claimed_at=timezone.now() - timedelta(minutes=10)
    )
    assert tasks.recover.apply().get() == 1
    row.refresh_from_db()
    assert row.state == "sent"


def test_preferences_turn_a_channel_off(approval, team, client):
    client.force_login(team["owner"])
    response = client.post(
        reverse("notifications:preferences"), {"approval.requested|portal": "on"}
    )
    assert response.status_code == 302
    assert NotificationPreference.objects.filter(
        user=team["owner"], event="approval.requested", channel="email", enabled=False
    ).exists()
    approval_requested_notify(approval)
    channels = set(
        Notification.objects.filter(user=team["owner"]).values_list("channel", flat=True)
    )
    assert channels == {"portal"}
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert 'name="approval.requested|portal" aria-label' in page and "checked" in page


def test_the_bell_counts_unread_and_reading_clears_it(approval, team, client):
    approval_requested_notify(approval)
    client.force_login(team["owner"])
    page = client.get(reverse("portal:dashboard")).content.decode()
    bell = reverse("notifications:bell")
    assert f'hx-get="{bell}"' in page and 'hx-trigger="load, every 30s"' in page
    html = client.get(bell, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-unread="1"' in html and 'hx-trigger="every 30s"' in html
    listing = client.get(reverse("notifications:list")).content.decode()
    assert "Approve ledger in prod?" in listing
    client.post(reverse("notifications:read_all"))
    assert "data-unread" not in client.get(bell, HTTP_HX_REQUEST="true").content.decode()


def test_a_failed_release_tells_its_requester_and_the_owning_team(
    ledger, environments, team, make_user, django_capture_on_commit_callbacks
):
    requester = make_user("rob", email="rob@example.com")
    release = Release.objects.create(component=ledger, environment=environments["prod"],
                                     version="2.0.0", requested_by=requester)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        release_transition(
            release_id=release.pk, from_states=["queued"], to_state="failed",
            message="workflow failed", status_message="the workflow failed",
        )  # fmt: skip
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert told == {"rob", "olivia", "leo"}
    assert any("failed" in m.subject for m in mail.outbox)


def test_an_approval_created_by_the_workflow_is_announced_with_it(
    ledger, environments, team, django_capture_on_commit_callbacks
):
    from approvals.models import MachineClient
    from approvals.services import approval_create

    client = MachineClient.objects.create(
        name="gha", token_sha256="x" * 64, signing_secret="s", all_components=True
    )
    client.environments.add(environments["prod"])
    data = {"service": "ledger", "environment": "prod", "rollout_phase": "canary 5%",
            "actor": "olivia", "to_version": "1.5.0"}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        approval = approval_create(client=client, data=data)
    told = set(Notification.objects.filter(key=f"approval:{approval.pk}").values_list(
        "user__username", flat=True))  # fmt: skip
    assert told == {"leo", "sasha"}  # olivia asked for it


def test_reminders_for_an_expiring_approval_and_a_reverting_override_are_said_once(
    approval, team, ledger, environments
):
    from deployments.controls.models import TuningKey, TuningValue
    from notifications.events import reminders_send

    ApprovalRequest.objects.filter(pk=approval.pk).update(
        expires_at=timezone.now() + timedelta(minutes=5)
    )
    key = TuningKey.objects.create(
        component=ledger, key="log_sampling", kind="sampling", default=0.1
    )
    TuningValue.objects.create(
        key=key, environment=environments["prod"], override_value=1.0,
        override_until=timezone.now() + timedelta(minutes=3), override_by=team["sre"],
    )  # fmt: skip
    assert reminders_send() > 0
    assert reminders_send() == 0  # beat runs again: nothing new
    expiring = set(Notification.objects.filter(event="approval.expiring").values_list(
        "user__username", flat=True))  # fmt: skip
    reverting = set(Notification.objects.filter(event="override.reverting").values_list(
        "user__username", flat=True))  # fmt: skip
    assert expiring == {"olivia", "leo", "sasha"}
    assert reverting == {"olivia", "leo", "sasha"}
    assert Notification.objects.filter(title__contains="log_sampling of ledger in prod").exists()
