import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from approvals.models import ApprovalPolicy, ApprovalRequest
from approvals.services import ApprovalRefused, approval_decide, approval_expire_due
from portal.errors import PermissionDenied
from portal.models import AuditEvent, TeamMembership


@pytest.fixture
def colleague(make_user, payments):
    user = make_user("camila")
    TeamMembership.objects.create(user=user, team=payments)
    return user


@pytest.fixture
def approval(ledger, environments, owner, machine):
    return ApprovalRequest.objects.create(
        component=ledger,
        environment=environments["prod"],
        client=machine,
        rollout_phase="canary 5% verified",
        weight=5,
        requested_by=owner,
        requester_label="olivia",
        expires_at=timezone.now() + timedelta(minutes=30),
    )


def decide(actor, approval, decision="approve", comment="looks good"):
    return approval_decide(actor=actor, approval=approval, decision=decision, comment=comment)


def test_colleague_approves_and_signal_is_scheduled(
    colleague, approval, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        decided = decide(colleague, approval)
    assert (decided.state, decided.decided_by, decided.signal_state) == (
        "approved",
        colleague,
        "pending",
    )
    assert len(callbacks) == 1
    assert AuditEvent.objects.get(action="approval.decide").after == {"decision": "approve"}


def test_requester_cannot_approve_own_request(owner, approval):
    with pytest.raises(PermissionDenied, match="You asked for this release"):
        decide(owner, approval)
    approval.refresh_from_db()
    assert approval.state == "pending"
    assert AuditEvent.objects.get().outcome == "denied"


def test_other_team_cannot_decide(outsider, approval):
    with pytest.raises(PermissionDenied):
        decide(outsider, approval, "abort")
    approval.refresh_from_db()
    assert approval.state == "pending"


def test_sre_can_decide_any_team(sre, approval):
    assert decide(sre, approval, "abort").state == "aborted"


def test_expired_request_cannot_be_approved(colleague, approval):
    ApprovalRequest.objects.filter(pk=approval.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    approval.refresh_from_db()
    with pytest.raises(ApprovalRefused, match="expired"):
        decide(colleague, approval)


def test_second_decision_is_told_who_decided(colleague, sre, approval):
    stale = ApprovalRequest.objects.get(pk=approval.pk)
    decide(colleague, approval)
    with pytest.raises(ApprovalRefused, match="Already approved by camila"):
        decide(sre, stale, "abort")
    assert AuditEvent.objects.filter(action="approval.decide").count() == 1


def test_quorum_needs_two_people(colleague, sre, approval, environments):
    ApprovalRequest.objects.filter(pk=approval.pk).update(quorum=2)
    approval.refresh_from_db()
    assert decide(colleague, approval).state == "pending"
    with pytest.raises(ApprovalRefused, match="already approved"):
        decide(colleague, approval)
    assert decide(sre, approval).state == "approved"


def test_beat_expires_and_never_approves(approval, environments):
    ApprovalPolicy.objects.create(environment=environments["prod"], on_expiry="stay-paused")
    ApprovalRequest.objects.filter(pk=approval.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1), on_expiry="stay-paused"
    )
    assert approval_expire_due() == 1
    approval.refresh_from_db()
    assert approval.state == "expired" and approval.decided_by is None
    assert approval.signal_state == "none"  # stay paused: nothing to send
    assert approval_expire_due() == 0  # a late or duplicate run changes nothing
    assert AuditEvent.objects.get(action="approval.expire").actor_label == "beat"


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_decisions_one_wins(approval, make_user, payments, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent decisions need PostgreSQL (set DATABASE_URL)")
    from approvals import tasks

    sent = []
    monkeypatch.setattr(tasks.approval_signal, "delay", lambda pk: sent.append(pk))
    deciders = []
    for index in range(50):
        user = make_user(f"member{index}")
        TeamMembership.objects.create(user=user, team=payments)
        deciders.append(user)
    barrier = threading.Barrier(50)
    outcomes = []

    def attempt(user):
        try:
            barrier.wait()
            local = ApprovalRequest.objects.select_related("component", "environment").get(
                pk=approval.pk
            )
            decide(user, local, "approve")
            outcomes.append("won")
        except ApprovalRefused as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in deciders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("won") == 1
    assert all(o.startswith("Already approved by member") for o in outcomes if o != "won")
    assert sent == [approval.pk]
    assert AuditEvent.objects.filter(action="approval.decide").count() == 1


def test_signal_claimed_by_another_worker_is_not_sent_twice(colleague, approval):
    from approvals import signalling

    ApprovalRequest.objects.filter(pk=approval.pk).update(
        state="approved",
        decision="approve",
        signal_state="sending",
        signal_claimed_at=timezone.now(),
        signal_attempts=1,
    )
    signalling.approval_signal_send(approval_id=approval.pk)  # a second, simultaneous delivery
    approval.refresh_from_db()
    assert (approval.signal_state, approval.signal_attempts) == ("sending", 1)


def test_signal_of_a_dead_worker_is_reclaimed_and_sent(colleague, approval):
    from approvals import signalling

    ApprovalRequest.objects.filter(pk=approval.pk).update(
        state="approved",
        decision="approve",
        signal_state="sending",
        signal_attempts=1,
        signal_claimed_at=timezone.now() - timedelta(minutes=10),
    )
    assert signalling.approval_signals_reclaim() == [approval.pk]
    signalling.approval_signal_send(approval_id=approval.pk)  # polling only: nothing to call
    approval.refresh_from_db()
    assert (approval.signal_state, approval.signal_attempts) == ("sent", 2)
