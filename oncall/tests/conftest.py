from datetime import UTC, datetime, timedelta

import pytest

from sandbox.tests import fixtures

pagerduty_world = fixtures.pagerduty_world


@pytest.fixture
def paging(pagerduty_world, ledger, payments):
    """PagerDuty services for ledger and for checkout (which depends on ledger, so it is in
    ledger's blast radius); Alice on call now for ledger, Bob next."""
    from catalog.models import Component, Dependency

    pd = pagerduty_world.rest()
    users = {
        name: pd.rpost(
            "users", json={"user": {"name": name, "email": f"{name.lower()}@example.com"}}
        )
        for name in ("Alice", "Bob", "Carol")
    }
    policy = pd.rpost("escalation_policies", json={"escalation_policy": {"name": "Payments"}})
    services = {}
    for name in ("ledger", "checkout", "search"):
        services[name] = pd.rpost("services", json={"service": {
            "name": name, "integration_key": f"{name}-key",
            "escalation_policy": {"id": policy["id"], "type": "escalation_policy_reference"},
        }})  # fmt: skip
    now = datetime.now(UTC)
    pagerduty_world.oncall(
        policy["id"], users["Alice"]["id"], now - timedelta(hours=2), now + timedelta(hours=6)
    )
    pagerduty_world.oncall(
        policy["id"],
        users["Carol"]["id"],
        now - timedelta(hours=2),
        now + timedelta(hours=6),
        level=2,
    )
    pagerduty_world.oncall(
        policy["id"], users["Bob"]["id"], now + timedelta(hours=6), now + timedelta(hours=14)
    )
    ledger.annotations = {"pagerduty.com/service-id": services["ledger"]["id"],
                          "pagerduty.com/integration-key": "ledger-key"}  # fmt: skip
    ledger.save()
    checkout = Component.objects.create(
        name="checkout", owner=payments,
        annotations={"pagerduty.com/service-id": services["checkout"]["id"]},
    )  # fmt: skip
    Dependency.objects.create(source=checkout, target=ledger)
    unmapped = Component.objects.create(name="basket", owner=payments)
    Dependency.objects.create(source=unmapped, target=ledger)
    search = Component.objects.create(
        name="search", owner=payments,
        annotations={"pagerduty.com/service-id": services["search"]["id"]},
    )  # fmt: skip
    return {"services": services, "users": users, "checkout": checkout, "search": search}


@pytest.fixture
def incident(pagerduty_world):
    def open_incident(service: dict, title: str, urgency: str = "high") -> dict:
        pd = pagerduty_world.rest(sender="alice@example.com")
        return pd.rpost("incidents", json={"incident": {
            "type": "incident", "title": title, "urgency": urgency,
            "service": {"id": service["id"], "type": "service_reference"},
        }})  # fmt: skip

    return open_incident
