"""Release start and finish reach PagerDuty as change events."""

from deployments.models import Release
from deployments.releases.transitions import release_transition


def change_events(pagerduty_world) -> list[dict]:
    return list(pagerduty_world.rest().iter_all("change_events"))


def test_release_start_and_finish_are_change_events_on_the_service(
    ledger, environments, paging, pagerduty_world, django_capture_on_commit_callbacks, owner
):
    release = Release.objects.create(
        component=ledger, environment=environments["prod"], version="2.0.0",
        previous_version="1.9.0", requested_by=owner,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        release_transition(release_id=release.pk, from_states=["queued"], to_state="dispatching",
                           message="dispatching")  # fmt: skip
        release_transition(release_id=release.pk, from_states=["dispatching"], to_state="workflow",
                           message="workflow")  # fmt: skip
        release_transition(release_id=release.pk, from_states=["workflow"], to_state="succeeded",
                           message="done")  # fmt: skip
        # a duplicate of the finishing step moves nothing and sends nothing
        release_transition(release_id=release.pk, from_states=["workflow"], to_state="succeeded",
                           message="done")  # fmt: skip
    events = change_events(pagerduty_world)
    assert [e["summary"] for e in events] == [
        "Release of ledger 2.0.0 to prod succeeded",
        "Release of ledger 2.0.0 to prod started",
    ]
    assert events[0]["services"][0]["id"] == paging["services"]["ledger"]["id"]
    assert events[0]["custom_details"]["requested_by"] == "olivia"
    assert events[0]["links"][0]["href"].endswith(release.get_absolute_url())


def test_pagerduty_down_never_blocks_the_release(
    ledger, environments, paging, pagerduty_world, django_capture_on_commit_callbacks
):
    pagerduty_world.arm_fault(kind="error", status=503)
    release = Release.objects.create(component=ledger, environment=environments["prod"],
                                     version="2.0.0")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        moved = release_transition(release_id=release.pk, from_states=["queued"],
                                   to_state="failed", message="boom")  # fmt: skip
    release.refresh_from_db()
    assert moved and release.state == "failed"


def test_no_integration_key_no_event(
    ledger, environments, pagerduty_world, django_capture_on_commit_callbacks
):
    release = Release.objects.create(component=ledger, environment=environments["prod"],
                                     version="2.0.0")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        release_transition(release_id=release.pk, from_states=["queued"], to_state="dispatching",
                           message="go")  # fmt: skip
    assert change_events(pagerduty_world) == []


def test_pagerduty_down_keeps_the_event_in_the_outbox_until_beat_sends_it(
    ledger, environments, paging, pagerduty_world, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from oncall import tasks
    from oncall.models import ChangeEvent

    pagerduty_world.arm_fault(kind="error", status=503)
    release = Release.objects.create(component=ledger, environment=environments["prod"],
                                     version="2.0.0")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        release_transition(release_id=release.pk, from_states=["queued"],
                           to_state="dispatching", message="go")  # fmt: skip
    row = ChangeEvent.objects.get(release=release)
    assert row.state == "pending" and "HTTP 503" in row.last_error  # retried later
    requests_clear(pagerduty_world)
    ChangeEvent.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert tasks.change_events_recover.apply().get() == 1
    row.refresh_from_db()
    assert row.state == "sent"
    assert [e["summary"] for e in change_events(pagerduty_world)] == [
        "Release of ledger 2.0.0 to prod started"
    ]
    assert tasks.change_event_deliver.apply(args=[row.pk]).get() == "skipped"  # duplicate
    assert len(change_events(pagerduty_world)) == 1


def requests_clear(pagerduty_world) -> None:
    import requests

    requests.delete(f"{pagerduty_world.url}/sandbox/faults", timeout=5, verify=pagerduty_world.ca)
