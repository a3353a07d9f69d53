"""Train approvals expire as approval requests do: the policy's time to decide, counted from
when the train waits on the part; beat closes them (never approves). Under `abort` an expired
part rolls the train back with the reason; under `stay-paused` its services are left
waiting. A duplicate or late beat tick changes nothing. The machine is stepped directly."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import ApprovalPolicy
from catalog.models import ComponentEnvironment
from deployments.models import Release, TrainApproval, TrainEvent
from deployments.trains import machine, tasks
from deployments.trains.errors import TrainRefused
from deployments.trains.parts import train_approval_decide, train_parts_expire_due
from deployments.trains.services import train_create, train_start
from portal.models import AuditEvent, TeamMembership


@pytest.fixture
def colleague(make_user, payments):
    user = make_user("camila")
    TeamMembership.objects.create(user=user, team=payments)
    return user


@pytest.fixture
def prod(shop, environments):
    for name in ("billing", "audit"):
        ComponentEnvironment.objects.get_or_create(
            component=shop[name], environment=environments["prod"]
        )
    return environments["prod"]


def started(owner, shop, env, names=("billing", "ledger")):
    items = [(shop[n], "v2.0.0") for n in names]
    train = train_create(actor=owner, environment=env, title="shop", items=items)
    train_start(actor=owner, train=train)
    return train


def tick(train, capture):
    with capture(execute=False):  # the releases' dispatch is not sent here
        return machine.train_tick_run(train_id=train.pk)


def expire(capture, at):
    with capture(execute=False):
        return train_parts_expire_due(now=at)


def counts(train):
    return (
        TrainEvent.objects.filter(train=train).count(),
        AuditEvent.objects.filter(action="train.expire").count(),
    )


def test_the_policy_ttl_starts_with_the_wave_that_waits_on_the_part(
    owner, shop, prod, django_capture_on_commit_callbacks
):
    ApprovalPolicy.objects.create(environment=prod, default_ttl_minutes=30)
    before = timezone.now()
    train = started(owner, shop, prod)
    first, second = train.approvals.order_by("wave")
    assert first.ttl_minutes == second.ttl_minutes == 30
    assert (
        before + timedelta(minutes=30) <= first.expires_at <= timezone.now() + timedelta(minutes=30)
    )
    assert second.expires_at is None  # wave 2's clock starts when wave 2 does
    TrainApproval.objects.filter(pk=first.pk).update(state="approved", decided_by=owner)
    tick(train, django_capture_on_commit_callbacks)
    Release.objects.filter(component=shop["ledger"]).update(state="succeeded")
    tick(train, django_capture_on_commit_callbacks)  # wave 2 starts
    tick(train, django_capture_on_commit_callbacks)
    second.refresh_from_db()
    asked = second.expires_at
    assert asked is not None and asked > timezone.now() + timedelta(minutes=29)
    tick(train, django_capture_on_commit_callbacks)  # a duplicate tick keeps the clock
    second.refresh_from_db()
    assert second.expires_at == asked


def test_an_expired_part_rolls_the_train_back_with_the_reason(
    owner, colleague, shop, prod, django_capture_on_commit_callbacks
):
    ApprovalPolicy.objects.create(environment=prod, default_ttl_minutes=30, on_expiry="abort")
    train = started(owner, shop, prod)
    part = train.approvals.get(wave=0)
    late = part.expires_at + timedelta(seconds=1)
    assert expire(django_capture_on_commit_callbacks, part.expires_at - timedelta(seconds=1)) == 0
    # Past its expiry and before beat closed it: no decision is taken any more.
    TrainApproval.objects.filter(pk=part.pk).update(expires_at=timezone.now())
    with pytest.raises(TrainRefused, match="expired at .* can no longer be decided"):
        train_approval_decide(actor=colleague, part=part, decision="approve")
    assert expire(django_capture_on_commit_callbacks, late) == 1
    train.refresh_from_db()
    assert train.state == "rollingback"
    reason = "Payments's part (wave 1) expired: nobody decided it within 30 minutes"
    assert train.failure_reason == reason
    seen = counts(train)
    # A duplicate or late beat tick changes nothing.
    assert expire(django_capture_on_commit_callbacks, late) == 0
    assert expire(django_capture_on_commit_callbacks, late + timedelta(hours=5)) == 0
    assert counts(train) == seen
    assert tick(train, django_capture_on_commit_callbacks) == "rolledback"
    part.refresh_from_db()
    assert part.state == "expired" and part.decided_by is None  # never approved
    assert reason in train.events.last().message
    row = AuditEvent.objects.get(action="train.expire")
    assert row.after == {"team": "payments", "wave": 0, "on_expiry": "abort"}
    assert row.actor_label == "beat"
    assert train.approvals.get(wave=1).state == "closed"
    assert not Release.objects.exists()


def test_under_stay_paused_an_expired_part_leaves_the_train_waiting(
    owner, shop, prod, django_capture_on_commit_callbacks
):
    ApprovalPolicy.objects.create(environment=prod, on_expiry="stay-paused")
    train = started(owner, shop, prod)
    part = train.approvals.get(wave=0)
    late = part.expires_at + timedelta(minutes=1)
    assert expire(django_capture_on_commit_callbacks, late) == 1
    assert expire(django_capture_on_commit_callbacks, late) == 0
    for _ in range(2):
        assert tick(train, django_capture_on_commit_callbacks) == "running"
    ledger = train.services.get(component=shop["ledger"])
    assert ledger.state == "pending"
    assert "expired unanswered; the policy leaves the train waiting" in ledger.message
    assert not Release.objects.exists()
    assert "the train waits" in train.events.last().message
    assert AuditEvent.objects.filter(action="train.expire").count() == 1


def test_a_late_tick_after_a_decision_or_the_end_changes_nothing(
    owner, colleague, shop, prod, django_capture_on_commit_callbacks
):
    ApprovalPolicy.objects.create(environment=prod)
    train = started(owner, shop, prod)
    part = train.approvals.get(wave=0)
    train_approval_decide(actor=colleague, part=part, decision="approve")
    far = timezone.now() + timedelta(days=2)
    assert expire(django_capture_on_commit_callbacks, far) == 0  # decided; wave 2 not asked
    part.refresh_from_db()
    assert part.state == "approved"
    train.refresh_from_db()
    assert train.state == "running"
    # The beat task closes due parts, then steps the trains (nothing went out: rolled back).
    TrainApproval.objects.filter(pk=train.approvals.get(wave=1).pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=False):
        tasks.trains_tick()
    train.refresh_from_db()
    assert train.state == "rolledback" and "(wave 2) expired" in train.failure_reason


def test_the_page_says_until_when_a_part_may_be_decided(
    client, owner, colleague, shop, prod, django_capture_on_commit_callbacks
):
    ApprovalPolicy.objects.create(environment=prod, on_expiry="stay-paused")
    train = started(owner, shop, prod)
    client.force_login(colleague)
    page = client.get(train.get_absolute_url()).content.decode()
    assert "or it leaves the train waiting" in page
    assert "asked when wave 2 starts (60 minutes to decide)" in page
    assert page.count("Approve Payments's part") == 2
    TrainApproval.objects.filter(train=train, wave=0).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    page = client.get(train.get_absolute_url()).content.decode()
    assert page.count("Approve Payments's part") == 1  # the lapsed one takes no decision
