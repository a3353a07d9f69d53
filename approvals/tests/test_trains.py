"""A train's part approval carried to its canary's pause: with a quorum above one, the
approver's vote counts and the train page's line says how many more votes the canary needs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import ApprovalPolicy, ApprovalRequest
from approvals.services import approval_decide
from approvals.trains import train_pause_decide
from deployments.models import Release, Train, TrainService
from portal.models import TeamMembership


@pytest.fixture
def voters(make_user, payments):
    people = [make_user(name) for name in ("camila", "dara", "eli")]
    for person in people:
        TeamMembership.objects.create(user=person, team=payments)
    return people


@pytest.fixture
def paused(ledger, environments, owner, machine):
    prod = environments["prod"]
    ApprovalPolicy.objects.create(environment=prod, quorum=3)
    train = Train.objects.create(environment=prod, title="shop", state="running", created_by=owner)
    release = Release.objects.create(
        component=ledger,
        environment=prod,
        version="v2",
        strategy="canary",
        canary_steps=[5, 25, 50, 100],
        state="paused",
        current_step=0,
        set_weight=5,
        requested_by=owner,
    )
    service = TrainService.objects.create(
        train=train, component=ledger, version="v2", release=release, state="releasing"
    )
    gate = ApprovalRequest.objects.create(
        component=ledger,
        environment=prod,
        release=release,
        client=machine,
        rollout_phase="canary 5% verified",
        weight=5,
        quorum=3,
        requested_by=owner,
        requester_label=owner.username,
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    return {"train": train, "service": service, "release": release, "gate": gate}


def decide(paused, approver):
    return train_pause_decide(
        train=paused["train"],
        service=paused["service"],
        release=paused["release"],
        approver=approver,
    )


def test_a_quorum_above_one_says_how_many_votes_the_canary_still_needs(paused, voters):
    camila, dara, eli = voters
    gate = paused["gate"]
    said = decide(paused, camila)
    assert said.startswith("Its canary needs 2 more votes on its approval page (3 needed")
    # The next tick votes nothing again and says the same.
    assert decide(paused, camila) == said
    assert gate.votes.count() == 1
    approval_decide(actor=dara, approval=gate, decision="approve")
    assert decide(paused, camila).startswith("Its canary needs 1 more vote on")
    approval_decide(actor=eli, approval=gate, decision="approve")
    gate.refresh_from_db()
    assert gate.state == "approved"
    assert decide(paused, camila) == ""  # decided: nothing is waited on


def test_a_quorum_of_one_is_decided_by_the_part_and_says_nothing(paused, voters):
    ApprovalRequest.objects.filter(pk=paused["gate"].pk).update(quorum=1)
    assert decide(paused, voters[0]) == ""
    paused["gate"].refresh_from_db()
    assert paused["gate"].state == "approved"


def test_the_train_page_shows_the_votes_still_needed(client, paused, voters, payments, owner):
    from deployments.models import TrainApproval
    from deployments.trains import machine

    train = paused["train"]
    Train.objects.filter(pk=train.pk).update(approval_mode="wave", started_by=owner)
    TrainApproval.objects.create(
        train=train, team=payments, wave=0, state="approved", decided_by=voters[0]
    )
    assert machine.train_tick_run(train_id=train.pk) == "running"
    client.force_login(voters[1])
    page = client.get(train.get_absolute_url()).content.decode()
    assert "Its canary needs 2 more votes on its approval page" in page
