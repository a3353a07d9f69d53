"""The Slack message of a request tells how it is going before it is decided: the votes toward
a quorum above 1, and the soak under analysis (no Approve button until the gate opens, then the
message is updated by the analysis tick through the outbox)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import ApprovalRequest
from approvals.services import approval_decide
from approvals.tests import test_slack
from deployments.analysis import services as analysis
from deployments.models import AnalysisPolicy, AnalysisStep, Release
from notifications.events import approval_requested_notify
from notifications.models import Notification

people = test_slack.people  # the Slack tests' fixture: olivia, rita, oscar, sasha and Slack ids
buttons, click = test_slack.buttons, test_slack.click


@pytest.fixture
def release(ledger, environments, people):
    return Release.objects.create(
        component=ledger, environment=environments["prod"], version="1.5.0",
        previous_version="1.4.0", strategy=Release.Strategy.CANARY, canary_steps=[5, 25, 100],
        state=Release.State.PAUSED, requested_by=people["rita"], current_step=0, set_weight=5,
        actual_weight=5,
    )  # fmt: skip


def request_for(release, people, quorum=1):
    return ApprovalRequest.objects.create(
        component=release.component, environment=release.environment, release=release,
        rollout_phase="canary 5%", weight=5, quorum=quorum, requested_by=people["rita"],
        requester_label="rita", to_version="1.5.0",
        expires_at=timezone.now() + timedelta(minutes=30),
    )  # fmt: skip


def announce(approval, capture):
    with capture(execute=True):
        approval_requested_notify(approval)


def message(slack_world):
    (posted,) = slack_world.messages("payments")
    return posted


def test_each_vote_toward_a_quorum_of_two_updates_the_message(
    release,
    people,
    slack_world,
    client,
    django_capture_on_commit_callbacks,
):
    approval = request_for(release, people, quorum=2)
    announce(approval, django_capture_on_commit_callbacks)
    assert "approvals:" not in str(message(slack_world)["blocks"])
    click(client, slack_world, people, approval, "olivia")
    posted = message(slack_world)
    assert len(posted["edits"]) == 1  # chat.update of the same message
    assert "1 of 2 approvals: olivia" in str(posted["blocks"])
    assert buttons(posted) == ["approval_approve", "approval_abort", "open"]  # still open
    vote = Notification.objects.get(event="approval.voted")
    assert vote.key == f"approval:{approval.pk}#vote-1" and vote.state == "sent"
    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(actor=people["sre"], approval=approval, decision="approve")
    posted = message(slack_world)
    assert "approved* by sasha" in str(posted["blocks"]) and buttons(posted) == ["open"]


def test_while_the_step_soaks_the_message_counts_down_without_approve_until_the_gate_opens(
    release,
    people,
    slack_world,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.INTEGRATION_URLS = {**settings.INTEGRATION_URLS, "prometheus": "http://127.0.0.1:9"}
    AnalysisPolicy.objects.create(
        environment=release.environment, min_requests=1, interval_seconds=1, soak_seconds=300
    )
    analysis.analysis_steps_open()
    approval = request_for(release, people)
    announce(approval, django_capture_on_commit_callbacks)
    blocks = str(message(slack_world)["blocks"])
    assert "soaking, " in blocks and " s left" in blocks
    assert buttons(message(slack_world)) == ["approval_abort", "open"]  # approving is refused
    # The soak ends; the tick evaluates (Prometheus unreachable: inconclusive, a person decides).
    AnalysisStep.objects.filter(release=release).update(
        soak_ends_at=timezone.now() - timedelta(seconds=1), next_evaluation_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        for step_id, slot in analysis.analysis_steps_due():
            analysis.analysis_step_evaluate(step_id=step_id, slot=slot)
    posted = message(slack_world)
    assert len(posted["edits"]) == 1 and "soaking" not in str(posted["blocks"])
    assert buttons(posted) == ["approval_approve", "approval_abort", "open"]
    # A later tick of the same step writes no second update.
    AnalysisStep.objects.filter(release=release).update(next_evaluation_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        for step_id, slot in analysis.analysis_steps_due():
            analysis.analysis_step_evaluate(step_id=step_id, slot=slot)
    assert Notification.objects.filter(event="approval.gate_opened").count() == 1
    assert len(message(slack_world)["edits"]) == 1


def test_a_step_that_soaked_and_passed_updates_the_message_once_with_approve(
    release, people, slack_world, monkeypatch, django_capture_on_commit_callbacks
):
    """The other way the gate opens: the analysis passes after the soak (healthy numbers),
    the release stays paused for its approvers, and the message offers Approve again."""
    from deployments.analysis.evaluate import Decision

    AnalysisPolicy.objects.create(
        environment=release.environment, min_requests=1, interval_seconds=1, soak_seconds=300
    )
    analysis.analysis_steps_open()
    approval = request_for(release, people)
    announce(approval, django_capture_on_commit_callbacks)
    assert buttons(message(slack_world)) == ["approval_abort", "open"]
    healthy = {"canary_error_rate": 0.001, "stable_error_rate": 0.001, "requests": 900}
    monkeypatch.setattr(
        analysis, "evaluate_many",
        lambda steps: {s.pk: Decision("pass", "healthy", healthy) for s in steps},
    )  # fmt: skip
    AnalysisStep.objects.filter(release=release).update(next_evaluation_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        for step_id, slot in analysis.analysis_steps_due():
            analysis.analysis_step_evaluate(step_id=step_id, slot=slot)
    assert AnalysisStep.objects.get(release=release).outcome == "analysing"  # still soaking
    assert not message(slack_world)["edits"]
    AnalysisStep.objects.filter(release=release).update(
        soak_ends_at=timezone.now() - timedelta(seconds=1), next_evaluation_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        for step_id, slot in analysis.analysis_steps_due():
            analysis.analysis_step_evaluate(step_id=step_id, slot=slot)
    assert AnalysisStep.objects.get(release=release).outcome == "passed"
    release.refresh_from_db()
    assert release.state == "paused"  # the approvers decide, now without a soak in the way
    posted = message(slack_world)
    assert len(posted["edits"]) == 1 and "soaking" not in str(posted["blocks"])
    assert buttons(posted) == ["approval_approve", "approval_abort", "open"]
    # A passed step is not evaluated again: no second update.
    with django_capture_on_commit_callbacks(execute=True):
        for step_id, slot in analysis.analysis_steps_due():
            analysis.analysis_step_evaluate(step_id=step_id, slot=slot)
    assert Notification.objects.filter(event="approval.gate_opened").count() == 1
    assert len(message(slack_world)["edits"]) == 1


def test_a_vote_on_a_request_whose_message_never_got_out_posts_nothing(
    release,
    people,
    slack_world,
    client,
    django_capture_on_commit_callbacks,
):
    approval = request_for(release, people, quorum=2)
    announce(approval, django_capture_on_commit_callbacks)
    Notification.objects.filter(event="approval.requested", channel="slack").update(
        state="failed", external_ref=""
    )  # its retries ran out
    click(client, slack_world, people, approval, "olivia")
    assert Notification.objects.get(event="approval.voted").state == "sent"
    assert not message(slack_world)["edits"]  # progress is not worth a message of its own
