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
from portal.errors import PermissionDenied
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


def test_a_later_waves_approvers_are_told_again_when_its_clock_starts(
    owner, colleague, shop, prod, django_capture_on_commit_callbacks
):
    from deployments.trains.parts import train_parts_ask
    from notifications.events import train_parts_requested_notify
    from notifications.models import Notification

    ApprovalPolicy.objects.create(environment=prod, default_ttl_minutes=30)
    train = started(owner, shop, prod)
    first, second = train.approvals.order_by("wave").select_related("team", "train")
    train_parts_requested_notify([first, second])  # what the start tells them
    told = {n.key: n for n in Notification.objects.filter(event="train.part_requested")}
    assert {n.user.username for n in told.values()} == {"camila"}
    assert "Decide by" in told[f"train-part:{first.pk}"].body
    assert "start when the train reaches it" in told[f"train-part:{second.pk}"].body

    parts = list(train.approvals.select_related("team", "train"))
    with django_capture_on_commit_callbacks(execute=True):
        train_parts_ask(parts, 1)  # the train reaches wave 2: its clock starts
    dues = list(Notification.objects.filter(key__startswith=f"train-part:{second.pk}:due"))
    assert {n.user for n in dues} == {colleague}  # one row per channel they want
    due = dues[0]
    second.refresh_from_db()
    assert f"now waits for {second.team}'s part" in due.title
    assert f"Decide by {second.expires_at:%H:%M} UTC." in due.body
    with django_capture_on_commit_callbacks(execute=True):
        train_parts_ask(list(train.approvals.select_related("team", "train")), 1)  # again
    assert Notification.objects.filter(key__contains=":due").count() == len(dues)


def test_under_stay_paused_the_starter_asks_the_team_again_with_a_fresh_clock(
    owner, colleague, shop, prod, client, django_capture_on_commit_callbacks
):
    from deployments.trains.parts import train_part_ask_again
    from notifications.models import Notification

    ApprovalPolicy.objects.create(environment=prod, on_expiry="stay-paused", default_ttl_minutes=30)
    train = started(owner, shop, prod)
    part = train.approvals.select_related("team", "train").get(wave=0)
    with pytest.raises(TrainRefused, match="only a part that expired unanswered"):
        train_part_ask_again(actor=owner, part=part)  # still open: nothing to ask again
    expire(django_capture_on_commit_callbacks, part.expires_at + timedelta(minutes=1))
    with pytest.raises(PermissionDenied, match="Only whoever started this train and SREs"):
        train_part_ask_again(actor=colleague, part=part)
    part.refresh_from_db()
    assert part.state == "expired"
    # The page offers it to the starter, who asks again.
    client.force_login(owner)
    page = client.get(train.get_absolute_url()).content.decode()
    assert f"Ask {part.team} again (30 minutes to decide)" in page
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(f"{train.get_absolute_url()}approvals/{part.pk}/again/")
    part.refresh_from_db()
    assert part.state == "pending" and part.decided_at is None
    assert part.expires_at > timezone.now() + timedelta(minutes=29)
    assert AuditEvent.objects.filter(action="train.reask", outcome="done").count() == 1
    assert f"olivia asked {part.team} again for its part" in train.events.last().message
    callbacks[0]()  # the team is told again, with the new clock
    told = list(Notification.objects.filter(key__startswith=f"train-part:{part.pk}:due"))
    assert {n.user for n in told} == {colleague}
    assert f"Decide by {part.expires_at:%H:%M} UTC." in told[0].body
    # A double click asks once; the colleague now decides and the train goes on.
    with pytest.raises(TrainRefused, match="is waiting for a decision"):
        train_part_ask_again(actor=owner, part=part)
    train_approval_decide(actor=colleague, part=part, decision="approve")
    tick(train, django_capture_on_commit_callbacks)
    assert Release.objects.filter(component=shop["ledger"]).exists()
