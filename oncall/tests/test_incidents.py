"""The incident ledger: PagerDuty incidents of mapped components are recorded once, their
status follows, and each new one is emitted as incident.detected."""

import pytest

from deployments.cdevents.events import TYPES
from deployments.cdevents.models import EventSink
from deployments.tests.cdevents.schemas import cdevent_problems
from oncall.incidents import incidents_sync
from oncall.models import Incident
from sandbox.tests.fixtures import cdevents_world  # noqa: F401

pytestmark = pytest.mark.django_db


def test_incidents_of_mapped_services_are_recorded_once(paging, incident, ledger):
    opened = incident(paging["services"]["ledger"], "ledger is down")
    incident(paging["services"]["search"], "search is slow", urgency="low")
    assert incidents_sync() == 2
    assert incidents_sync() == 0
    row = Incident.objects.get(pagerduty_id=opened["id"])
    assert (row.component, row.urgency, row.status, row.title) == (
        ledger, "high", "triggered", "ledger is down",
    )  # fmt: skip
    assert row.created_at is not None


def test_a_resolved_incident_is_updated(paging, incident, pagerduty_world):
    opened = incident(paging["services"]["ledger"], "ledger is down")
    incidents_sync()
    pagerduty_world.rest().rput(
        opened, json={"incident": {"type": "incident", "status": "resolved"}}
    )
    incidents_sync()
    assert Incident.objects.get(pagerduty_id=opened["id"]).status == "resolved"


def test_pagerduty_down_records_nothing_and_raises_nothing(paging, incident, pagerduty_world):
    incident(paging["services"]["ledger"], "ledger is down")
    pagerduty_world.arm_fault(kind="error", status=503)
    assert incidents_sync() == 0 and not Incident.objects.exists()


def test_a_new_incident_is_emitted_as_a_valid_cdevent(
    paging, incident, cdevents_world, shared_dir, environments,  # noqa: F811
    django_capture_on_commit_callbacks,
):  # fmt: skip
    EventSink.objects.create(name="sandbox")
    opened = incident(paging["services"]["ledger"], "ledger is down")
    with django_capture_on_commit_callbacks(execute=True):
        incidents_sync()
    (event,) = cdevents_world.events()
    assert event["type"] == TYPES["incident.detected"]
    assert event["data"]["subject"]["id"] == opened["id"]
    assert event["data"]["subject"]["content"]["service"] == {"id": "ledger"}
    assert event["data"]["subject"]["content"]["environment"] == {"id": "prod"}
    assert cdevent_problems(shared_dir, event["data"]) == []
