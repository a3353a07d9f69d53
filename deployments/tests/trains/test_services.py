"""Train services: planning, moves, and the guardrails of starting (no sandbox needed)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Dependency
from deployments.models import DeployFreeze, Train, TrainService
from deployments.trains.errors import TrainRefused
from deployments.trains.services import train_create, train_move, train_start
from portal.errors import PermissionDenied
from portal.models import AuditEvent


def plan(actor, shop, env, names, **extra):
    items = [(shop[n], "v2.0.0") for n in names]
    return train_create(actor=actor, environment=env, title="shop", items=items, **extra)


def waves(train):
    return dict(train.services.values_list("component__name", "wave"))


def test_providers_go_before_consumers_and_event_edges_only_when_asked(owner, shop, environments):
    train = plan(owner, shop, environments["staging"], ["invoices", "billing", "ledger", "audit"])
    assert waves(train) == {"ledger": 0, "audit": 0, "billing": 1, "invoices": 2}
    respecting = plan(owner, shop, environments["staging"], ["ledger", "audit"], respect_event=True)
    assert waves(respecting) == {"ledger": 0, "audit": 1}


def test_a_cycle_is_refused_naming_the_services_that_form_it(owner, shop, environments):
    Dependency.objects.create(source=shop["ledger"], target=shop["invoices"], kind="sync")
    with pytest.raises(TrainRefused, match="in a circle") as refused:
        plan(owner, shop, environments["staging"], ["invoices", "billing", "ledger"])
    assert all(name in refused.value.message for name in ("invoices", "billing", "ledger"))
    assert not Train.objects.exists()


def test_moving_before_a_provider_is_refused_and_changes_nothing(owner, shop, environments):
    train = plan(owner, shop, environments["staging"], ["billing", "ledger"])
    billing = train.services.get(component__name="billing")
    with pytest.raises(TrainRefused, match="billing depends on ledger"):
        train_move(actor=owner, train=train, service=billing, wave=0)
    assert waves(train) == {"ledger": 0, "billing": 1}


def test_moving_a_provider_later_takes_its_consumers_along(owner, shop, environments):
    train = plan(owner, shop, environments["staging"], ["billing", "ledger", "audit"])
    ledger = train.services.get(component__name="ledger")
    train_move(actor=owner, train=train, service=ledger, wave=1)
    assert waves(train) == {"audit": 0, "ledger": 1, "billing": 2}


def test_a_freeze_on_one_component_holds_the_train(owner, shop, environments):
    train = plan(owner, shop, environments["staging"], ["billing", "ledger"])
    now = timezone.now()
    DeployFreeze.objects.create(
        environment=environments["staging"],
        component=shop["billing"],
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        reason="quarter close",
    )
    with pytest.raises(TrainRefused, match="billing is frozen .* quarter close"):
        train_start(actor=owner, train=train)
    train.refresh_from_db()
    assert train.state == "planning"


def test_one_train_per_environment_at_a_time(owner, shop, environments):
    first = plan(owner, shop, environments["staging"], ["ledger"])
    second = plan(owner, shop, environments["staging"], ["billing"])
    Train.objects.filter(pk=first.pk).update(state="running")
    with pytest.raises(TrainRefused, match="Another train is running in staging"):
        train_start(actor=owner, train=second)
    second.refresh_from_db()
    assert second.state == "planning"
    with pytest.raises(IntegrityError), transaction.atomic():
        Train.objects.filter(pk=second.pk).update(state="rollingback")


def test_a_started_train_cannot_be_reordered(owner, shop, environments):
    train = plan(owner, shop, environments["staging"], ["billing", "ledger"])
    Train.objects.filter(pk=train.pk).update(state="running")
    billing = TrainService.objects.get(train=train, component__name="billing")
    with pytest.raises(TrainRefused, match="has started"):
        train_move(actor=owner, train=train, service=billing, wave=3)
    assert waves(train) == {"ledger": 0, "billing": 1}


def test_an_outsider_cannot_start_or_move_a_train(outsider, owner, shop, environments):
    train = plan(owner, shop, environments["staging"], ["ledger"])
    with pytest.raises(PermissionDenied):
        train_start(actor=outsider, train=train)
    with pytest.raises(PermissionDenied):
        train_move(actor=outsider, train=train, service=train.services.get(), wave=2)
    train.refresh_from_db()
    assert train.state == "planning" and waves(train) == {"ledger": 0}


def test_a_service_left_starting_by_a_dead_worker_is_picked_up_again(owner, shop, environments):
    from deployments.models import Release
    from deployments.trains import machine

    train = plan(owner, shop, environments["staging"], ["billing", "ledger"])
    long_ago = timezone.now() - timedelta(minutes=5)
    Train.objects.filter(pk=train.pk).update(state="running", started_at=long_ago, started_by=owner)
    ledger = TrainService.objects.get(train=train, component__name="ledger")
    TrainService.objects.filter(pk=ledger.pk).update(state="starting", changed_at=long_ago)
    machine.train_tick_run(train_id=train.pk)
    ledger.refresh_from_db()
    assert ledger.state == "pending" and not Release.objects.exists()
    # This time the worker had made the release before dying: it is adopted, not made twice.
    made = Release.objects.create(
        component=shop["ledger"],
        environment=environments["staging"],
        version="v2.0.0",
        reason="Train “shop”, wave 1",
        requested_by=owner,
    )
    TrainService.objects.filter(pk=ledger.pk).update(state="starting", changed_at=long_ago)
    machine.train_tick_run(train_id=train.pk)
    ledger.refresh_from_db()
    assert (ledger.state, ledger.release) == ("releasing", made)
    assert Release.objects.count() == 1


def test_a_service_outside_the_train_still_orders_its_members(owner, shop, environments):
    # invoices -> billing -> ledger, and billing is not in the train.
    train = plan(owner, shop, environments["staging"], ["invoices", "ledger"])
    assert waves(train) == {"ledger": 0, "invoices": 1}
    invoices = train.services.get(component__name="invoices")
    with pytest.raises(TrainRefused, match="invoices depends on ledger"):
        train_move(actor=owner, train=train, service=invoices, wave=0)


def test_a_cycle_through_an_outside_service_is_refused(owner, shop, environments):
    Dependency.objects.create(source=shop["ledger"], target=shop["invoices"], kind="sync")
    with pytest.raises(TrainRefused, match="in a circle") as refused:
        plan(owner, shop, environments["staging"], ["invoices", "ledger"])
    assert "billing" in refused.value.message


def test_cancelling_before_the_start_ends_the_train_and_releases_nothing(owner, shop, environments):
    from deployments.models import Release
    from deployments.trains.services import train_cancel

    train = plan(owner, shop, environments["staging"], ["billing", "ledger"])
    train_cancel(actor=owner, train=train, reason="wrong versions")
    train.refresh_from_db()
    assert train.state == "cancelled" and train.finished_at is not None
    assert "cancelled the train before it started: wrong versions" in train.events.last().message
    assert AuditEvent.objects.filter(action="train.cancel", outcome="done").count() == 1
    assert not Release.objects.exists()
    with pytest.raises(TrainRefused, match="it is over"):
        train_cancel(actor=owner, train=train)
    with pytest.raises(TrainRefused, match="started already"):
        train_start(actor=owner, train=train)


def test_cancelling_a_running_train_rolls_it_back_with_the_reason(
    owner, shop, environments, django_capture_on_commit_callbacks
):
    from deployments.trains import machine
    from deployments.trains.services import train_cancel

    train = plan(owner, shop, environments["staging"], ["billing", "ledger"])
    Train.objects.filter(pk=train.pk).update(state="running", started_by=owner)
    train.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        train_cancel(actor=owner, train=train, reason="incident in payments")
    assert len(callbacks) == 1  # the train's tick, on commit
    train.refresh_from_db()
    assert train.state == "rollingback"
    assert machine.train_tick_run(train_id=train.pk) == "rolledback"
    train.refresh_from_db()
    assert train.failure_reason == "Cancelled by olivia: incident in payments"
    assert set(train.services.values_list("state", flat=True)) == {"notrun"}
    assert train.events.last().message.startswith("Rolled back")


def test_an_outsider_cannot_cancel_a_train(outsider, owner, shop, environments):
    from deployments.trains.services import train_cancel

    train = plan(owner, shop, environments["staging"], ["ledger"])
    with pytest.raises(PermissionDenied):
        train_cancel(actor=outsider, train=train)
    train.refresh_from_db()
    assert train.state == "planning"
    assert AuditEvent.objects.filter(action="train.cancel", outcome="denied").count() == 1


def test_the_walk_around_the_members_is_the_same_on_both_sql_paths(db):
    """PostgreSQL walks over arrays, SQLite with a recursive join: the same edges."""
    import random

    from django.db import connection

    from catalog.models import Component
    from deployments.trains.selectors import _edges_around_generic, _edges_around_postgres

    if connection.vendor != "postgresql":
        pytest.skip("compares the PostgreSQL walk with the generic one")
    rng = random.Random(5)
    nodes = [Component.objects.create(name=f"s{i}") for i in range(60)]
    Dependency.objects.bulk_create(
        Dependency(source=a, target=b, kind=rng.choice(["sync", "event", "data"]))
        for a, b in {(rng.choice(nodes), rng.choice(nodes)) for _ in range(150)}
        if a != b
    )
    members = [c.pk for c in rng.sample(nodes, 12)]
    for kinds in (("sync",), ("sync", "event", "data")):
        generic = {(e.consumer, e.provider) for e in _edges_around_generic(members, kinds)}
        around = _edges_around_postgres(members, kinds)
        assert generic and {(s, t) for s, (ts, _) in around.items() for t in ts} == generic
        member_kinds = {
            (e.consumer, e.provider, e.kind)
            for e in _edges_around_generic(members, kinds)
            if e.consumer in members
        }
        assert {
            (s, t, k)
            for s, (ts, ks) in around.items()
            if s in members
            for t, k in zip(ts, ks, strict=True)
        } == member_kinds


def test_the_plan_edges_are_read_once_per_catalog_version(
    owner, shop, environments, django_assert_num_queries
):
    from deployments.trains.selectors import train_edges

    ids = [shop["invoices"].pk, shop["ledger"].pk]
    first = train_edges(ids)
    with django_assert_num_queries(1):  # the catalog version only
        assert train_edges(ids) == first
    Dependency.objects.filter(source=shop["billing"]).delete()  # a new version: read again
    assert train_edges(ids) == []
