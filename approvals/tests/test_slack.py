"""Approvals in the owning team's Slack channel: the message with the evidence and buttons,
deciding from Slack through the same decision service, the message updated afterwards, and
Slack's faults never holding a decision back."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals import tasks as approval_tasks
from approvals.models import ApprovalRequest, SlackInteraction
from approvals.services import approval_decide, approval_expire_due
from approvals.tests.slack_helpers import TEAM_ID, block_actions, slack_post
from notifications import tasks
from notifications.events import approval_requested_notify
from notifications.models import Notification, SlackAccount
from portal.celery import app as celery_app
from portal.models import AuditEvent
from sandbox.slack import SIGNING_SECRET


@pytest.fixture
def people(owner, sre, outsider, make_user, payments, slack_world):
    payments.chat_channel = "#payments"
    payments.save()
    owner.email = "olivia@example.com"
    owner.save()
    rita = make_user("rita", email="rita@example.com")
    outsider.email = "oscar@example.com"
    outsider.save()
    slack_world.channel("payments")
    ids = {
        name: slack_world.user(f"{name}@example.com", name)["id"]
        for name in ("olivia", "rita", "oscar", "nobody")
    }
    return {"owner": owner, "rita": rita, "outsider": outsider, "sre": sre, "slack": ids}


@pytest.fixture
def approval(ledger, environments, people):
    return ApprovalRequest.objects.create(
        component=ledger, environment=environments["prod"], rollout_phase="canary 5% verified",
        requested_by=people["rita"], requester_label="rita", to_version="1.5.0",
        expires_at=timezone.now() + timedelta(minutes=30),
    )  # fmt: skip


@pytest.fixture
def announced(approval, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        approval_requested_notify(approval)
    return approval


def buttons(message) -> list[str]:
    return [e.get("action_id") for b in message["blocks"] for e in b.get("elements") or []
            if e.get("type") == "button"]  # fmt: skip


def click(client, slack_world, people, approval, who: str, action="approval_approve", **kw):
    payload = block_actions(slack_id=people["slack"][who], action_id=action,
                            value=str(approval.pk),
                            response_url=f"{slack_world.url}/actions/{who}")  # fmt: skip
    return slack_post(client, payload, secret=kw.pop("secret", SIGNING_SECRET), **kw)


def olivias_approve(slack_world, people, approval) -> dict:
    """The payload of olivia's click on Approve for `approval` (answered at her response URL)."""
    return block_actions(slack_id=people["slack"]["olivia"], action_id="approval_approve",
                         value=str(approval.pk),
                         response_url=f"{slack_world.url}/actions/olivia")  # fmt: skip


def answer_to(slack_world, who: str) -> str:
    return [r["text"] for r in slack_world.responses() if r["hook"] == who][-1]


def test_a_request_posts_one_message_with_the_evidence_and_buttons_to_the_team_channel(
    announced, slack_world, people
):
    messages = slack_world.messages("payments")
    assert len(messages) == 1  # the team and the SRE want it: one message in the channel
    text = str(messages[0]["blocks"])
    for fact in ("Phase", "canary 5% verified", "Error rate", "Open incidents", "Blast radius",
                 "Time left", "min (expires"):  # fmt: skip
        assert fact in text
    assert buttons(messages[0]) == ["approval_approve", "approval_abort", "open"]
    # eligible approvers Slack knows are mentioned (and linked); never the requester
    assert f"<@{people['slack']['olivia']}>" in text and people["slack"]["rita"] not in text
    row = Notification.objects.get(channel="slack")
    assert row.state == "sent" and row.address == "#payments"
    assert row.external_ref == f"{messages[0]['channel']}:{messages[0]['ts']}"


def test_olivia_approves_from_slack_through_the_decision_service(
    announced, slack_world, people, client
):
    response = click(client, slack_world, people, announced, "olivia")
    assert response.status_code == 200
    announced.refresh_from_db()
    assert announced.state == "approved" and announced.decided_by == people["owner"]
    assert "Approved" in answer_to(slack_world, "olivia")
    event = AuditEvent.objects.get(action="approval.decide", outcome="done")
    assert event.actor == people["owner"] and event.after["channel"] == "slack"
    message = slack_world.messages("payments")[0]
    assert len(message["edits"]) == 1  # chat.update of the same message
    assert "approved* by olivia (from Slack)" in str(message["blocks"])
    assert buttons(message) == ["open"]


def test_the_requester_is_refused_from_slack_as_on_the_page(announced, slack_world, people, client):
    click(client, slack_world, people, announced, "rita")
    announced.refresh_from_db()
    assert announced.state == "pending"
    assert "You asked for this release" in answer_to(slack_world, "rita")
    denial = AuditEvent.objects.get(outcome="denied")
    assert denial.actor.username == "rita" and denial.after == {"channel": "slack"}


def test_another_teams_engineer_is_refused(announced, slack_world, people, client):
    click(client, slack_world, people, announced, "oscar")
    announced.refresh_from_db()
    assert announced.state == "pending"
    assert answer_to(slack_world, "oscar").startswith("Refused: Only Payments and SREs")


def test_a_slack_user_without_a_switchyard_account_gets_a_clear_refusal(
    announced, slack_world, people, client
):
    click(client, slack_world, people, announced, "nobody")
    announced.refresh_from_db()
    assert announced.state == "pending"
    assert "Switchyard does not know your Slack account" in answer_to(slack_world, "nobody")
    denial = AuditEvent.objects.get(outcome="denied", action="slack.interaction")
    assert denial.actor_label == f"slack:{people['slack']['nobody']}"
    assert not SlackAccount.objects.filter(slack_id=people["slack"]["nobody"]).exists()


@pytest.mark.parametrize(
    "forgery, reason",
    [({"secret": "guessed"}, "forged"), ({"age": 600}, "stale"),
     ({"signature": "v0=0"}, "forged")],
)  # fmt: skip
def test_forged_or_stale_requests_are_refused_and_audited(
    announced, slack_world, people, client, forgery, reason
):
    response = click(client, slack_world, people, announced, "olivia", **forgery)
    assert response.status_code == 401
    announced.refresh_from_db()
    assert announced.state == "pending" and not slack_world.responses()
    denial = AuditEvent.objects.get(outcome="denied", action="slack.interaction")
    assert denial.reason.startswith(reason)


def test_an_unsigned_request_is_refused(client, db):
    from django.urls import reverse

    response = client.post(reverse("approvals_api:slack_interactions"), {"payload": "{}"})
    assert response.status_code == 401
    assert AuditEvent.objects.get(outcome="denied").reason.startswith("unsigned")


def test_a_stored_link_is_used_without_asking_slack(
    announced, slack_world, people, client, make_user
):
    bob = make_user("bob", email="bob@elsewhere.example")
    from portal.models import TeamMembership

    TeamMembership.objects.create(user=bob, team=announced.component.owner)
    SlackAccount.objects.create(user=bob, team_id=TEAM_ID, slack_id=people["slack"]["nobody"])
    slack_world.arm_fault(path="/users.", kind="error", status=503)
    click(client, slack_world, people, announced, "nobody")
    announced.refresh_from_db()
    assert announced.state == "approved" and announced.decided_by == bob


def test_slack_down_never_blocks_and_the_page_shows_the_failure(
    approval, slack_world, people, client, django_capture_on_commit_callbacks
):
    slack_world.arm_fault(path="/chat.", kind="error", status=503)
    with django_capture_on_commit_callbacks(execute=True):
        approval_requested_notify(approval)
    row = Notification.objects.get(channel="slack")
    assert row.state == "pending" and "internal_error" in row.last_error  # to be retried
    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(actor=people["owner"], approval=approval, decision="approve")
    approval.refresh_from_db()
    assert approval.state == "approved"
    client.force_login(people["owner"])
    page = client.get(approval.get_absolute_url()).content.decode()
    assert "Slack #payments: request" in page and "not delivered yet" in page
    row.state = "failed"  # the retries ran out
    row.save()
    page = client.get(approval.get_absolute_url()).content.decode()
    assert "<strong>not delivered</strong>: slack: posting to #payments: internal_error" in page


def test_expiry_updates_the_message_and_a_late_duplicate_changes_nothing(
    announced, slack_world, people, django_capture_on_commit_callbacks
):
    ApprovalRequest.objects.filter(pk=announced.pk).update(expires_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert approval_expire_due() == 1
    message = slack_world.messages("payments")[0]
    assert "expired at" in str(message["blocks"]) and buttons(message) == ["open"]
    followup = Notification.objects.get(event="approval.expired")
    assert followup.state == "sent" and followup.external_ref
    assert tasks.deliver.apply(args=[followup.pk]).get() == "skipped"
    assert len(slack_world.messages("payments")[0]["edits"]) == 1


def _expiring_soon(approval) -> int:
    """The request expires in 5 minutes and beat sends the reminders."""
    from notifications.events import reminders_send

    ApprovalRequest.objects.filter(pk=approval.pk).update(
        expires_at=timezone.now() + timedelta(minutes=5)
    )
    return reminders_send()


def test_the_reminder_before_expiry_is_a_reply_in_the_requests_thread(
    announced, slack_world, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert _expiring_soon(announced) > 0
    (message,) = slack_world.messages("payments")  # no second message beside the request
    (reply,) = message["replies"]
    assert reply["thread_ts"] == message["ts"] and reply["broadcast"]  # shown in the channel too
    assert "waits for a decision: it expires at" in reply["text"]
    row = Notification.objects.get(event="approval.expiring", channel="slack")
    assert row.state == "sent" and row.external_ref.endswith(reply["ts"])
    from notifications.events import reminders_send

    with django_capture_on_commit_callbacks(execute=True):
        reminders_send()  # beat again: said once
    assert len(slack_world.messages("payments")[0]["replies"]) == 1


def test_a_reminder_whose_request_never_reached_slack_is_a_message_of_its_own(
    approval, slack_world, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _expiring_soon(approval)  # the request itself was never announced to the channel
    (message,) = slack_world.messages("payments")
    assert "waits for a decision" in message["text"] and "replies" not in message


def test_a_decision_on_the_page_updates_the_slack_message_too(
    announced, slack_world, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(actor=people["sre"], approval=announced, decision="abort",
                        comment="error rate climbing")  # fmt: skip
    blocks = str(slack_world.messages("payments")[0]["blocks"])
    assert "aborted* by sasha at" in blocks and "error rate climbing" in blocks


def test_slack_not_taking_the_answer_never_undoes_the_decision(
    announced, slack_world, people, client
):
    slack_world.arm_fault(path="/actions/", kind="error", status=503)
    response = click(client, slack_world, people, announced, "olivia")
    assert response.status_code == 200
    announced.refresh_from_db()
    assert announced.state == "approved" and not slack_world.responses()
    row = SlackInteraction.objects.get()
    assert row.state == "answering" and row.answer.startswith("Approved")
    celery_app.conf.task_eager_propagates = False  # as a worker: a retry is not an error
    try:
        approval_tasks.slack_interaction_decide.apply(args=[row.pk])  # the retries, at once
    finally:
        celery_app.conf.task_eager_propagates = True
    row.refresh_from_db()
    assert row.state == "failed" and "HTTP 503" in row.error
    announced.refresh_from_db()
    assert announced.state == "approved" and announced.votes.count() == 1


def test_other_buttons_and_payloads_do_nothing(announced, slack_world, people, client):
    assert click(client, slack_world, people, announced, "olivia", action="open").status_code == 200
    announced.refresh_from_db()
    assert announced.state == "pending" and not slack_world.responses()


def test_a_click_is_acknowledged_at_once_and_decided_by_the_task_after(
    announced, slack_world, people, client, django_capture_on_commit_callbacks
):
    payload = olivias_approve(slack_world, people, announced)
    with django_capture_on_commit_callbacks(execute=False) as scheduled:
        response = slack_post(client, payload, secret=SIGNING_SECRET, decide=False)
    assert response.status_code == 200  # Slack has its answer before anything is decided
    announced.refresh_from_db()
    assert announced.state == "pending" and not slack_world.responses()
    row = SlackInteraction.objects.get()
    assert row.state == "received" and row.key == f"trigger:{payload['trigger_id']}"
    with django_capture_on_commit_callbacks(execute=True):
        for callback in scheduled:
            callback()  # the worker runs the task
    announced.refresh_from_db()
    assert announced.state == "approved" and announced.decided_by == people["owner"]
    assert "Approved" in answer_to(slack_world, "olivia")
    row.refresh_from_db()
    assert row.state == "answered" and row.answer.startswith("Approved")


def test_a_duplicate_delivery_of_the_same_click_decides_nothing_twice(
    announced, slack_world, people, client
):
    ApprovalRequest.objects.filter(pk=announced.pk).update(quorum=2)
    payload = olivias_approve(slack_world, people, announced)
    first = slack_post(client, payload, secret=SIGNING_SECRET)
    again = slack_post(client, payload, secret=SIGNING_SECRET)  # Slack delivered it twice
    assert first.status_code == again.status_code == 200
    assert announced.votes.count() == 1
    assert AuditEvent.objects.filter(action__startswith="approval.").count() == 1
    answers = [r["text"] for r in slack_world.responses() if r["hook"] == "olivia"]
    assert answers == ["Your approval of ledger in prod is recorded (1 of 2)."]
    row = SlackInteraction.objects.get()  # and a task delivered twice claims nothing
    assert approval_tasks.slack_interaction_decide.apply(args=[row.pk]).get() == "answered"
    assert announced.votes.count() == 1 and len(slack_world.responses()) == 1


def test_the_answer_arrives_when_slack_takes_it_on_a_retry(announced, slack_world, people, client):
    slack_world.arm_fault(path="/actions/", kind="error", status=503, count=1)
    assert click(client, slack_world, people, announced, "olivia").status_code == 200
    row = SlackInteraction.objects.get()
    assert row.state == "answering" and not slack_world.responses()  # Slack refused it once
    approval_tasks.slack_interaction_decide.apply(args=[row.pk], retries=1)  # Celery's retry
    assert "Approved" in answer_to(slack_world, "olivia")  # sent again, decided once
    announced.refresh_from_db()
    assert announced.state == "approved" and announced.votes.count() == 1
    assert SlackInteraction.objects.get().state == "answered"


def _stall(row, state: str, minutes: int = 4) -> None:
    SlackInteraction.objects.filter(pk=row.pk).update(
        state=state, updated_at=timezone.now() - timedelta(minutes=minutes)
    )


def test_a_click_whose_task_was_lost_is_decided_by_beat_once_it_has_stalled(
    announced, slack_world, people, client
):
    payload = olivias_approve(slack_world, people, announced)
    slack_post(client, payload, secret=SIGNING_SECRET, decide=False)  # the broker lost the task
    row = SlackInteraction.objects.get()
    approval_tasks.approvals_expire.apply()
    assert SlackInteraction.objects.get().state == "received"  # not stalled yet: left alone
    _stall(row, "received")
    approval_tasks.approvals_expire.apply()
    announced.refresh_from_db()
    assert announced.state == "approved" and announced.decided_by == people["owner"]
    row.refresh_from_db()
    assert row.state == "answered" and "Approved" in answer_to(slack_world, "olivia")


def test_a_worker_killed_after_deciding_leaves_nothing_stuck_and_nothing_decided_twice(
    announced, slack_world, people, client
):
    ApprovalRequest.objects.filter(pk=announced.pk).update(quorum=2)
    payload = olivias_approve(slack_world, people, announced)
    slack_post(client, payload, secret=SIGNING_SECRET, decide=False)
    row = SlackInteraction.objects.get()
    # The worker claimed the click and cast the vote, then died before recording it.
    approval_decide(actor=people["owner"], approval=announced, decision="approve", comment="")
    _stall(row, "deciding", minutes=2)
    approval_tasks.approvals_expire.apply()
    assert SlackInteraction.objects.get().state == "deciding"  # maybe still working: wait
    _stall(row, "deciding")
    approval_tasks.approvals_expire.apply()
    row.refresh_from_db()
    assert row.state == "answered"
    assert answer_to(slack_world, "olivia") == (
        "Nothing was decided: You have already approved this request."
    )
    assert announced.votes.count() == 1
    assert AuditEvent.objects.filter(action="approval.vote", outcome="done").count() == 1


def test_a_worker_killed_before_deciding_is_decided_once_by_beat(
    announced, slack_world, people, client
):
    payload = olivias_approve(slack_world, people, announced)
    slack_post(client, payload, secret=SIGNING_SECRET, decide=False)
    row = SlackInteraction.objects.get()
    _stall(row, "deciding")
    handed = approval_tasks.slack_interactions.slack_interactions_stalled()
    assert handed == [row.pk]
    assert approval_tasks.slack_interactions.slack_interactions_stalled() == []  # once per window
    approval_tasks.slack_interaction_decide.apply(args=[row.pk])
    announced.refresh_from_db()
    assert announced.state == "approved" and SlackInteraction.objects.get().state == "answered"


def test_an_answer_left_unsent_by_a_killed_worker_is_sent_by_beat(
    announced, slack_world, people, client
):
    slack_world.arm_fault(path="/actions/", kind="error", status=503, count=1)
    click(client, slack_world, people, announced, "olivia")
    row = SlackInteraction.objects.get()
    assert row.state == "answering"  # and the worker holding the retry was killed
    _stall(row, "answering")
    approval_tasks.approvals_expire.apply()
    assert SlackInteraction.objects.get().state == "answered"
    assert "Approved" in answer_to(slack_world, "olivia")
    announced.refresh_from_db()
    assert announced.votes.count() == 1
