"""The PagerDuty adapter (official client) against the PagerDuty sandbox."""

from datetime import UTC, datetime, timedelta

import pytest

from integrations.errors import IntegrationError
from integrations.pagerduty import pagerduty_client


@pytest.fixture
def ledger_service(pagerduty_world):
    pd = pagerduty_world.rest()
    alice = pd.rpost("users", json={"user": {"name": "Alice", "email": "alice@example.com"}})
    bob = pd.rpost("users", json={"user": {"name": "Bob", "email": "bob@example.com"}})
    policy = pd.rpost("escalation_policies", json={"escalation_policy": {"name": "Payments"}})
    service = pd.rpost("services", json={"service": {
        "name": "ledger", "integration_key": "ledger-key",
        "escalation_policy": {"id": policy["id"], "type": "escalation_policy_reference"},
    }})  # fmt: skip
    now = datetime.now(UTC)
    pagerduty_world.oncall(
        policy["id"], bob["id"], now + timedelta(hours=8), now + timedelta(hours=16)
    )
    pagerduty_world.oncall(
        policy["id"], alice["id"], now - timedelta(hours=1), now + timedelta(hours=8)
    )
    return {"service": service, "policy": policy, "alice": alice, "bob": bob}


def test_service_and_who_is_on_call_now_and_next(ledger_service):
    client = pagerduty_client()
    info = client.service_get(ledger_service["service"]["id"])
    assert info.name == "ledger" and info.escalation_policy_id == ledger_service["policy"]["id"]
    shifts = client.oncall_shifts(info.escalation_policy_id)
    assert [s.user for s in shifts] == ["Alice", "Bob"]
    assert shifts[0].start < datetime.now(UTC) < shifts[0].end
    assert shifts[0].email == "alice@example.com"


def test_open_incidents_of_several_services_are_read_through_pagination(
    pagerduty_world, ledger_service
):
    pd = pagerduty_world.rest(sender="alice@example.com")
    service = {"id": ledger_service["service"]["id"], "type": "service_reference"}
    made = [
        pd.rpost(
            "incidents",
            json={
                "incident": {
                    "type": "incident",
                    "title": f"ledger down {n}",
                    "service": service,
                    "urgency": "high" if n % 2 else "low",
                }
            },
        )  # fmt: skip
        for n in range(30)
    ]
    pd.rput(made[0], json={"incident": {"type": "incident", "status": "resolved"}})
    found = pagerduty_client().incidents_open([service["id"], "PNOSUCH"], limit=100)
    assert len(found) == 29  # two pages of the sandbox's 25, the resolved one left out
    assert found[0].title == "ledger down 29" and found[0].service_name == "ledger"
    assert {i.urgency for i in found} == {"high", "low"} and found[0].high
    assert pagerduty_client().incidents_open([]) == []


def test_change_events_reach_the_service_of_the_routing_key(pagerduty_world, ledger_service):
    pagerduty_client().change_event_send(
        "ledger-key", summary="ledger 1.5.0 to prod started", source="switchyard",
        details={"release": 7}, links=[{"href": "http://x/releases/7/", "text": "Release"}],
    )  # fmt: skip
    events = list(pagerduty_world.rest().iter_all("change_events"))
    assert events[0]["summary"] == "ledger 1.5.0 to prod started"
    assert events[0]["services"][0]["id"] == ledger_service["service"]["id"]
    with pytest.raises(IntegrationError) as caught:
        pagerduty_client().change_event_send(
            "no-key", summary="x", source="y", details={}, links=[]
        )
    assert caught.value.status == 400 and not caught.value.transient


def test_a_wrong_token_is_a_permanent_error(pagerduty_world, settings, ledger_service):
    settings.PAGERDUTY_TOKEN = "wrong"
    with pytest.raises(IntegrationError) as caught:
        pagerduty_client().service_get(ledger_service["service"]["id"])
    assert not caught.value.transient


def test_pagerduty_down_or_slow_answers_at_once_as_transient(
    pagerduty_world, settings, ledger_service
):
    pagerduty_world.arm_fault(kind="error", status=503, count=1)
    with pytest.raises(IntegrationError) as caught:
        pagerduty_client().incidents_open([ledger_service["service"]["id"]])
    assert caught.value.transient
    pagerduty_world.arm_fault(kind="rate_limit", count=1)
    with pytest.raises(IntegrationError) as caught:
        pagerduty_client().service_get(ledger_service["service"]["id"])
    assert caught.value.transient and caught.value.status == 429
    settings.PAGERDUTY_TIMEOUT_SECONDS = 0.3
    pagerduty_world.arm_fault(kind="timeout", seconds=1.5, count=1)
    with pytest.raises(IntegrationError) as caught:
        pagerduty_client().service_get(ledger_service["service"]["id"])
    assert caught.value.transient


def test_one_client_per_process_and_settings(pagerduty_world, settings, ledger_service):
    client = pagerduty_client()
    assert client.service_get(ledger_service["service"]["id"]).name == "ledger"
    assert pagerduty_client() is client  # its connections and loaded authority are kept
    settings.PAGERDUTY_TIMEOUT_SECONDS = 2.5
    other = pagerduty_client()
    assert other is not client  # other settings, another client
    assert other.service_get(ledger_service["service"]["id"]).name == "ledger"


def test_incidents_since_include_resolved_ones_and_stop_at_since(pagerduty_world, ledger_service):
    pd = pagerduty_world.rest(sender="alice@example.com")
    service = {"id": ledger_service["service"]["id"], "type": "service_reference"}
    opened = pd.rpost("incidents", json={"incident": {
        "type": "incident", "title": "ledger down", "service": service, "urgency": "high",
    }})  # fmt: skip
    pd.rput(opened, json={"incident": {"type": "incident", "status": "resolved"}})
    client = pagerduty_client()
    hour = timedelta(hours=1)
    found = client.incidents_since([service["id"]], datetime.now(UTC) - hour)
    assert [(i.id, i.status, i.urgency) for i in found] == [(opened["id"], "resolved", "high")]
    assert client.incidents_since([service["id"]], datetime.now(UTC) + hour) == []
    assert client.incidents_since([], datetime.now(UTC) - hour) == []
