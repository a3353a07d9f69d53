"""A train's approvals: per the environment's policy (one for the train, or one per wave and
owning team) and for the services its starter may not release; each owning team decides its
own part, never the starter. The machine is stepped directly; releases are not dispatched."""

import pytest
from django.db import IntegrityError, transaction

from approvals.models import ApprovalPolicy
from catalog.models import Component, ComponentEnvironment
from deployments.models import Release, Train, TrainApproval, TrainService
from deployments.trains import machine
from deployments.trains.errors import TrainRefused
from deployments.trains.parts import train_approval_decide
from deployments.trains.services import train_create, train_start
from portal.errors import PermissionDenied
from portal.models import AuditEvent, TeamMembership


@pytest.fixture
def fin_member(make_user, shop):
    user = make_user("fiona")
    TeamMembership.objects.create(user=user, team=shop["invoices"].owner)
    return user


@pytest.fixture
def colleague(make_user, payments):
    user = make_user("camila")
    TeamMembership.objects.create(user=user, team=payments)
    return user


def plan(actor, shop, env, names, **extra):
    items = [(shop[n], "v2.0.0") for n in names]
    return train_create(actor=actor, environment=env, title="shop", items=items, **extra)


def in_prod(shop, environments, *names):
    for name in names:
        ComponentEnvironment.objects.get_or_create(
            component=shop[name], environment=environments["prod"]
        )


def parts(train):
    return sorted(
        (p.team.name, p.wave, p.why, p.state) for p in train.approvals.select_related("team")
    )


def tick(train, capture):
    with capture(execute=False):  # the releases' dispatch is not sent here
        return machine.train_tick_run(train_id=train.pk)


def test_a_service_the_starter_may_not_release_waits_for_its_owners_approval(
    owner, fin_member, shop, environments, django_capture_on_commit_callbacks
):
    from notifications.models import Notification

    train = plan(owner, shop, environments["staging"], ["billing", "invoices", "ledger"])
    assert train.approval_mode == ""  # staging has no approval policy
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        train_start(actor=owner, train=train)
    tick_task, tell = callbacks  # the train's first tick is stepped below, by hand
    tell()
    # fin's people are told (the starter is not: they may not decide it).
    told = set(
        Notification.objects.filter(event="train.part_requested").values_list(
            "user__username", flat=True
        )
    )
    assert told == {"fiona"}
    train.refresh_from_db()
    assert train.state == "running"
    assert parts(train) == [("fin", None, "permission", "pending")]
    assert "waiting for the approval of fin" in train.events.last().message
    # ledger and billing are the starter's: they go; invoices (wave 3) waits for fin.
    TrainService.objects.filter(train=train).exclude(component__name="invoices").update(
        state="succeeded"
    )
    Train.objects.filter(pk=train.pk).update(current_wave=2)
    assert tick(train, django_capture_on_commit_callbacks) == "running"
    assert not Release.objects.filter(component=shop["invoices"]).exists()
    waiting = train.services.get(component=shop["invoices"])
    assert (waiting.state, waiting.message) == ("pending", "Waits for fin's approval of its part")
    part = train.approvals.get()
    with pytest.raises(PermissionDenied, match="never whoever started it"):
        train_approval_decide(actor=owner, part=part, decision="approve")
    train_approval_decide(actor=fin_member, part=part, decision="approve", comment="go")
    tick(train, django_capture_on_commit_callbacks)
    release = Release.objects.get(component=shop["invoices"])
    # The starter's request, released on the authority of fin's approval.
    assert release.requested_by == owner
    row = AuditEvent.objects.get(action="release.start", target_id=str(release.pk))
    assert row.after["authorised_by"] == "fiona"
    assert AuditEvent.objects.filter(action="train.approve", outcome="done").count() == 1


def test_a_service_without_an_owning_team_cannot_wait_for_one(owner, shop, environments):
    lonely = Component.objects.create(name="lonely")
    ComponentEnvironment.objects.create(component=lonely, environment=environments["staging"])
    shop["lonely"] = lonely
    train = plan(owner, shop, environments["staging"], ["ledger", "lonely"])
    with pytest.raises(PermissionDenied, match="lonely has no owning team"):
        train_start(actor=owner, train=train)
    train.refresh_from_db()
    assert train.state == "planning" and not TrainApproval.objects.exists()
    assert AuditEvent.objects.filter(action="train.start", outcome="denied").count() == 1


def test_one_approval_per_wave_and_owning_team_under_the_policy(
    owner, colleague, fin_member, shop, environments, django_capture_on_commit_callbacks
):
    prod = environments["prod"]
    ApprovalPolicy.objects.create(environment=prod, train_approvals="wave")
    in_prod(shop, environments, "billing", "invoices", "audit")
    train = plan(owner, shop, prod, ["billing", "invoices", "ledger", "audit"])
    assert train.approval_mode == "wave"
    train_start(actor=owner, train=train)
    # ledger + audit (wave 1, payments), billing (wave 2, payments), invoices (wave 3, fin)
    assert parts(train) == [
        ("fin", 2, "permission", "pending"),
        ("payments", 0, "policy", "pending"),
        ("payments", 1, "policy", "pending"),
    ]
    assert tick(train, django_capture_on_commit_callbacks) == "running"
    assert not Release.objects.exists()
    # Each team decides only its own part: fin's member cannot approve payments' wave.
    wave_1 = train.approvals.get(wave=0)
    with pytest.raises(PermissionDenied):
        train_approval_decide(actor=fin_member, part=wave_1, decision="approve")
    train_approval_decide(actor=colleague, part=wave_1, decision="approve")
    tick(train, django_capture_on_commit_callbacks)
    assert set(Release.objects.values_list("component__name", flat=True)) == {"ledger", "audit"}
    # A second decision on the same part changes nothing.
    with pytest.raises(TrainRefused, match="approved already by camila"):
        train_approval_decide(actor=colleague, part=wave_1, decision="decline")


def test_one_approval_for_the_train_covers_every_wave_of_that_team(
    owner, colleague, shop, environments, django_capture_on_commit_callbacks
):
    prod = environments["prod"]
    ApprovalPolicy.objects.create(environment=prod, train_approvals="train", approvers="leads")
    in_prod(shop, environments, "billing")
    with pytest.raises(TrainRefused, match="asks for one for the train"):
        plan(owner, shop, prod, ["billing", "ledger"], approval_mode="wave")
    train = plan(owner, shop, prod, ["billing", "ledger"])
    assert train.approval_mode == "train"
    train_start(actor=owner, train=train)
    assert parts(train) == [("payments", None, "policy", "pending")]
    part = train.approvals.get()
    # The policy says leads: a plain member of payments may not decide it.
    with pytest.raises(PermissionDenied, match="Only leads of"):
        train_approval_decide(actor=colleague, part=part, decision="approve")
    TeamMembership.objects.filter(user=colleague).update(role="lead")
    colleague = type(colleague).objects.get(pk=colleague.pk)  # its team roles read afresh
    train_approval_decide(actor=colleague, part=part, decision="approve")
    tick(train, django_capture_on_commit_callbacks)
    assert Release.objects.filter(component=shop["ledger"]).exists()


def test_the_planner_chooses_where_the_policy_lets_them(owner, shop, environments):
    prod = environments["prod"]
    ApprovalPolicy.objects.create(environment=prod, train_approvals="either")
    assert plan(owner, shop, prod, ["ledger"], approval_mode="train").approval_mode == "train"
    assert plan(owner, shop, prod, ["ledger"]).approval_mode == "wave"


def test_a_declined_part_stops_the_train_with_the_reason(
    owner, colleague, shop, environments, django_capture_on_commit_callbacks
):
    prod = environments["prod"]
    ApprovalPolicy.objects.create(environment=prod)
    in_prod(shop, environments, "billing")
    train = plan(owner, shop, prod, ["billing", "ledger"])
    train_start(actor=owner, train=train)
    train_approval_decide(
        actor=colleague, part=train.approvals.get(wave=0), decision="decline", comment="freeze"
    )
    train.refresh_from_db()
    assert train.state == "rollingback"
    assert train.failure_reason == "Payments declined its part (wave 1): freeze"
    assert tick(train, django_capture_on_commit_callbacks) == "rolledback"
    assert not Release.objects.exists()
    # The other part is closed with the train: nobody is asked any more.
    assert train.approvals.get(wave=1).state == "closed"
    with pytest.raises(TrainRefused, match="it is over"):
        train_approval_decide(actor=colleague, part=train.approvals.get(wave=1), decision="approve")


def test_one_part_per_team_and_wave_is_a_database_constraint(owner, shop, environments):
    train = plan(owner, shop, environments["staging"], ["ledger"])
    team = shop["ledger"].owner
    TrainApproval.objects.create(train=train, team=team, wave=0)
    TrainApproval.objects.create(train=train, team=team)
    for wave in (0, None):
        with pytest.raises(IntegrityError), transaction.atomic():
            TrainApproval.objects.create(train=train, team=team, wave=wave)
