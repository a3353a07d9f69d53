"""The outbox: every transition's CDEvents reach each sink once, in order, even through an
outage; a duplicate or late task changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deployments.cdevents import machine, tasks
from deployments.cdevents.events import TYPES
from deployments.cdevents.models import CDEvent, CDEventDelivery, EventSink
from deployments.models import Release
from deployments.releases.services import _release_create
from deployments.releases.transitions import release_transition

from .schemas import cdevent_problems

pytestmark = pytest.mark.django_db
PATH = ["dispatching", "workflow", "syncing", "progressing", "succeeded"]


@pytest.fixture
def sink(cdevents_world):
    return EventSink.objects.create(name="sandbox")


def _release(owner, component, environment, capture):
    """A queued release, not dispatched (the test moves it by hand); its queued event goes out
    through beat's sweep, as it would if the worker had missed the on-commit task."""
    with capture(execute=False):
        release = _release_create(
            actor=owner, component=component, environment=environment, version="1.2.3",
            previous_version="1.2.2", strategy="rolling", steps=[], reason="", rollback_of=None,
            action="release.start", context=None,
        )  # fmt: skip
    tasks.cdevents_sweep()
    return release


def _walk(release, states, capture, execute=True):
    previous = release.state
    for state in states:
        with capture(execute=execute):
            assert release_transition(
                release_id=release.pk, from_states=[previous], to_state=state, message=state
            )
        previous = state


def _due_now():
    CDEventDelivery.objects.filter(state="pending").update(next_attempt_at=timezone.now())


def test_without_a_sink_nothing_is_kept(owner, ledger, environments,
                                        django_capture_on_commit_callbacks):  # fmt: skip
    release = _release(owner, ledger, environments["prod"], django_capture_on_commit_callbacks)
    _walk(release, PATH, django_capture_on_commit_callbacks)
    assert not CDEvent.objects.exists()


def test_every_transition_reaches_the_sink_in_order_and_conforms(
    sink, cdevents_world, owner, ledger, environments, shared_dir,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    capture = django_capture_on_commit_callbacks
    release = _release(owner, ledger, environments["prod"], capture)
    _walk(release, PATH, capture)
    received = cdevents_world.events()
    assert [e["type"] for e in received] == [
        TYPES["pipelinerun.queued"], TYPES["pipelinerun.started"],
        TYPES["pipelinerun.finished"], TYPES["service.upgraded"],
    ]  # fmt: skip
    assert [e["id"] for e in received] == [
        str(i) for i in CDEvent.objects.order_by("id").values_list("event_id", flat=True)
    ]
    for event in received:
        assert cdevent_problems(shared_dir, event["data"]) == []
    assert received[-1]["data"]["subject"]["content"]["artifactId"] == "pkg:generic/ledger@1.2.3"
    assert set(CDEventDelivery.objects.values_list("state", flat=True)) == {"delivered"}


def test_a_sink_down_then_up_receives_everything_in_order(
    sink, cdevents_world, owner, ledger, environments, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    cdevents_world.down(503)
    first = _release(owner, ledger, environments["prod"], capture)
    _walk(first, PATH, capture)
    second = _release(owner, ledger, environments["staging"], capture)
    _walk(second, ["dispatching", "failed"], capture)
    assert cdevents_world.events() == []
    pending = CDEventDelivery.objects.filter(state="pending")
    assert pending.count() == CDEvent.objects.count() == 6
    head = pending.order_by("event_id").first()
    assert head.attempts >= 1 and "503" in head.last_error and head.next_attempt_at > timezone.now()

    assert tasks.cdevents_sweep() == 0  # backing off: nothing is due yet
    cdevents_world.up()
    _due_now()
    assert tasks.cdevents_sweep() == 2  # one stream per release
    received = [e["id"] for e in cdevents_world.events()]
    expected = {
        r.pk: [str(i) for i in r.cdevents.order_by("id").values_list("event_id", flat=True)]
        for r in (first, second)
    }
    for ids in expected.values():  # each release's events in the order they were made
        assert [i for i in received if i in ids] == ids
    assert sorted(received) == sorted(expected[first.pk] + expected[second.pk])
    assert not CDEventDelivery.objects.filter(state="pending").exists()


def test_a_duplicate_or_late_task_changes_nothing(
    sink, cdevents_world, owner, ledger, environments, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    release = _release(owner, ledger, environments["prod"], capture)
    _walk(release, PATH, capture)
    stream = f"release:{release.pk}"
    before = list(CDEventDelivery.objects.values_list("id", "state", "attempts", "delivered_at"))
    assert machine.cdevents_deliver_run(sink_id=sink.pk, stream=stream) == 0
    tasks.cdevents_deliver(sink.pk, stream)
    assert tasks.cdevents_sweep() == 0
    after = list(CDEventDelivery.objects.values_list("id", "state", "attempts", "delivered_at"))
    assert before == after and cdevents_world.duplicates() == 0
    assert len(cdevents_world.events()) == 4


def test_an_event_held_by_another_worker_is_not_sent_twice(
    sink, cdevents_world, owner, ledger, environments, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    cdevents_world.down(503)
    release = _release(owner, ledger, environments["prod"], capture)
    cdevents_world.up()
    delivery = CDEventDelivery.objects.get(state="pending")
    CDEventDelivery.objects.filter(pk=delivery.pk).update(  # due, but a worker is sending it
        next_attempt_at=timezone.now(), claimed_until=timezone.now() + timedelta(seconds=30)
    )
    assert machine.cdevents_deliver_run(sink_id=sink.pk, stream=f"release:{release.pk}") == 0
    assert tasks.cdevents_sweep() == 0
    assert cdevents_world.events() == []


def test_a_refused_event_is_kept_as_refused_and_the_stream_goes_on(
    sink, cdevents_world, owner, ledger, environments, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    cdevents_world.down(400)
    release = _release(owner, ledger, environments["prod"], capture)
    cdevents_world.up()
    _walk(release, ["dispatching", "workflow"], capture)
    refused = CDEventDelivery.objects.get(state="refused")
    assert refused.event.type == TYPES["pipelinerun.queued"] and "400" in refused.last_error
    assert [e["type"] for e in cdevents_world.events()] == [TYPES["pipelinerun.started"]]


def test_a_disabled_sink_gets_nothing(sink, owner, ledger, environments,
                                      django_capture_on_commit_callbacks):  # fmt: skip
    EventSink.objects.filter(pk=sink.pk).update(enabled=False)
    _release(owner, ledger, environments["prod"], django_capture_on_commit_callbacks)
    assert not CDEvent.objects.exists()


def test_an_abort_after_the_cluster_was_reached_is_a_rollback(
    sink, cdevents_world, owner, ledger, environments, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    release = _release(owner, ledger, environments["prod"], capture)
    _walk(release, ["dispatching", "workflow", "syncing", "aborted"], capture)
    types = [e["type"] for e in cdevents_world.events()]
    assert types[-2:] == [TYPES["pipelinerun.finished"], TYPES["service.rolledback"]]
    assert Release.objects.get(pk=release.pk).state == "aborted"


def test_beat_moves_on_an_event_whose_worker_died_while_sending(
    sink, cdevents_world, owner, ledger, environments, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    cdevents_world.down(503)
    release = _release(owner, ledger, environments["prod"], capture)
    cdevents_world.up()
    CDEventDelivery.objects.filter(state="pending").update(  # claimed, then the worker died
        next_attempt_at=timezone.now(), claimed_until=timezone.now() - timedelta(seconds=1)
    )
    assert tasks.cdevents_sweep() == 1
    assert [e["type"] for e in cdevents_world.events()] == [TYPES["pipelinerun.queued"]]
    assert release.cdevents.get().deliveries.get().state == "delivered"


def test_a_sink_whose_address_turned_inside_is_refused_at_send_time(
    cdevents_world, owner, ledger, environments, settings, django_capture_on_commit_callbacks
):
    """Saved while allowed (or while its name pointed outside); checked again at every send."""
    EventSink.objects.create(name="rebound", url=cdevents_world.url + "/events")
    settings.CDEVENTS_ALLOWED_NETWORKS = []
    _release(owner, ledger, environments["prod"], django_capture_on_commit_callbacks)
    refused = CDEventDelivery.objects.get()
    assert refused.state == "refused" and "a loopback address" in refused.last_error
    assert cdevents_world.events() == []
