"""Freezes hold per component: one that begins while the train runs holds that service (and
its wave) until it ends, then the train goes on; it never fails the train. One that holds a
service when the train would start refuses the start with the reason, and the plan shows it.
The machine is stepped directly; releases are not dispatched."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deployments.models import DeployFreeze, Release, Train, TrainService
from deployments.trains import machine
from deployments.trains.errors import TrainRefused
from deployments.trains.services import train_create, train_start


def plan(actor, shop, env, names):
    items = [(shop[n], "v2.0.0") for n in names]
    return train_create(actor=actor, environment=env, title="shop", items=items)


def tick(train, capture):
    with capture(execute=False):  # the releases' dispatch is not sent here
        return machine.train_tick_run(train_id=train.pk)


def freeze(env, component=None, *, starts=-1, ends=60, reason="quarter close"):
    now = timezone.now()
    return DeployFreeze.objects.create(
        environment=env,
        component=component,
        starts_at=now + timedelta(minutes=starts),
        ends_at=now + timedelta(minutes=ends),
        reason=reason,
    )


def service(train, name):
    return train.services.select_related("component").get(component__name=name)


def test_a_freeze_that_begins_mid_train_holds_the_service_until_it_ends(
    owner, shop, environments, django_capture_on_commit_callbacks
):
    staging = environments["staging"]
    train = plan(owner, shop, staging, ["ledger", "billing"])  # ledger wave 1, billing wave 2
    train_start(actor=owner, train=train)
    tick(train, django_capture_on_commit_callbacks)
    Release.objects.filter(component=shop["ledger"]).update(state="succeeded")
    held = freeze(staging, shop["billing"])
    tick(train, django_capture_on_commit_callbacks)  # wave 1 done: wave 2 starts
    for _ in range(3):  # a held service stays held, tick after tick; the train waits
        assert tick(train, django_capture_on_commit_callbacks) == "running"
    billing = service(train, "billing")
    line = f"Held by freeze “quarter close” until {held.ends_at:%Y-%m-%d %H:%M} UTC"
    assert (billing.state, billing.message) == ("pending", line)
    assert not Release.objects.filter(component=shop["billing"]).exists()
    timeline = list(train.events.values_list("message", flat=True))
    assert timeline.count(f"billing: {line[0].lower()}{line[1:]}") == 1  # said once
    ended = timezone.now() - timedelta(seconds=1)
    DeployFreeze.objects.filter(pk=held.pk).update(
        starts_at=ended - timedelta(minutes=5), ends_at=ended
    )
    tick(train, django_capture_on_commit_callbacks)  # the freeze is over: billing goes
    billing = service(train, "billing")
    assert billing.state == "releasing" and billing.message == ""
    Release.objects.filter(component=shop["billing"]).update(state="succeeded")
    assert tick(train, django_capture_on_commit_callbacks) == "succeeded"


def test_the_train_page_shows_the_hold(
    client, owner, shop, environments, django_capture_on_commit_callbacks
):
    staging = environments["staging"]
    train = plan(owner, shop, staging, ["ledger"])
    train_start(actor=owner, train=train)
    freeze(staging, reason="payday")  # the whole environment
    tick(train, django_capture_on_commit_callbacks)
    client.force_login(owner)
    page = client.get(train.get_absolute_url()).content.decode()
    assert "Held by freeze “payday” until" in page


def test_a_freeze_starting_between_the_look_and_the_release_holds_too(
    owner, shop, environments, django_capture_on_commit_callbacks, monkeypatch
):
    """The release service refuses (frozen since the tick looked): held, not failed."""
    staging = environments["staging"]
    train = plan(owner, shop, staging, ["ledger"])
    train_start(actor=owner, train=train)
    real = machine.train_freezes
    looks = []

    def late_freeze(environment, ids, **kw):
        looks.append(ids)
        if len(looks) == 1:  # the tick's look: nothing yet; then the freeze begins
            found = real(environment, ids, **kw)
            freeze(staging, shop["ledger"], reason="incident")
            return found
        return real(environment, ids, **kw)

    monkeypatch.setattr(machine, "train_freezes", late_freeze)
    assert tick(train, django_capture_on_commit_callbacks) == "running"
    ledger = service(train, "ledger")
    assert ledger.state == "pending" and "Held by freeze “incident”" in ledger.message
    assert not Release.objects.exists()


def test_a_restore_waits_for_the_freeze_too(
    owner, shop, environments, django_capture_on_commit_callbacks
):
    staging = environments["staging"]
    train = plan(owner, shop, staging, ["ledger", "billing"])
    train_start(actor=owner, train=train)
    tick(train, django_capture_on_commit_callbacks)
    Release.objects.filter(component=shop["ledger"]).update(
        state="succeeded", previous_version="v1.0.0"
    )
    tick(train, django_capture_on_commit_callbacks)
    tick(train, django_capture_on_commit_callbacks)  # billing releasing
    held = freeze(staging, shop["ledger"], reason="audit")
    Release.objects.filter(component=shop["billing"]).update(state="failed")
    assert tick(train, django_capture_on_commit_callbacks) == "rollingback"
    ledger = service(train, "ledger")
    assert ledger.state == "succeeded" and ledger.message.startswith("Restore held by freeze")
    DeployFreeze.objects.filter(pk=held.pk).update(
        starts_at=timezone.now() - timedelta(minutes=5), ends_at=timezone.now()
    )
    tick(train, django_capture_on_commit_callbacks)
    assert service(train, "ledger").state == "restoring"
    restore = service(train, "ledger").restore_release
    assert restore.version == "v1.0.0"


def test_a_freeze_at_start_refuses_the_start_and_the_plan_shows_it(
    client, owner, shop, environments
):
    staging = environments["staging"]
    train = plan(owner, shop, staging, ["ledger", "billing"])
    freeze(staging, shop["billing"], reason="quarter close")
    freeze(staging, shop["ledger"], starts=120, ends=180, reason="migration")
    client.force_login(owner)
    page = client.get(train.get_absolute_url()).content.decode()
    assert "Frozen until" in page and "quarter close" in page
    assert "Freeze from" in page and "migration" in page  # one ahead is shown too
    assert "Cannot start while billing is frozen" in page
    with pytest.raises(TrainRefused, match="billing is frozen .* quarter close"):
        train_start(actor=owner, train=train)
    response = client.post(reverse("deployments:train_start", args=[train.pk]), follow=True)
    assert "billing is frozen" in response.content.decode()
    train.refresh_from_db()
    assert train.state == "planning"
    assert TrainService.objects.filter(train=train, state="pending").count() == 2
    assert Train.objects.count() == 1
