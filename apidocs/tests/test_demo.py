"""The demo's PM journey: seeded APIs, a staging try-it policy and real servers behind them."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from apidocs.demo import DEMO_APIS
from apidocs.models import ApiDefinition, TryItPolicy
from catalog.models import Component, ComponentEnvironment
from portal.models import AuditEvent
from sandbox.management.commands.sandbox import (
    DEMO_API_SERVERS,
    demo_api_addresses_follow,
    demo_api_ports,
)
from sandbox.runner import start_sandbox

GET_SHIPMENT = "fulfilment.v1.FulfilmentService.GetShipment"


@pytest.fixture
def demo(db, settings, tmp_path):
    """As `make run`: `seed_demo`, then the sandbox's demo API servers on free ports, which point
    the demo APIs' staging addresses at themselves."""
    settings.SANDBOX_DIR = tmp_path
    call_command("seed_demo", "--services", "122", stdout=open("/dev/null", "w"))  # noqa: SIM115
    running = start_sandbox(
        directory=tmp_path, names=list(DEMO_API_SERVERS), ports=demo_api_ports()
    )
    demo_api_addresses_follow(running.endpoints)
    yield running
    running.stop()


def _pat(client):
    pat = get_user_model().objects.get(username="pat")
    client.force_login(pat)
    return pat


def test_seed_publishes_the_demo_apis_and_approves_staging_for_pms(demo):
    assert set(ApiDefinition.objects.values_list("component__name", "name")) == {
        (api.component, api.name) for api in DEMO_APIS
    }
    assert all(d.versions.count() == 1 for d in ApiDefinition.objects.all())
    policy = TryItPolicy.objects.get(environment__name="staging")
    assert policy.enabled and policy.allow_viewers
    assert not TryItPolicy.objects.filter(environment__name="prod", enabled=True).exists()
    staging = ComponentEnvironment.objects.get(
        component__name="payments-fulfilment-121", environment__name="staging"
    )
    assert staging.api_base_url.startswith("http://127.0.0.1:")


def test_pm_gets_a_grpc_answer_on_the_first_try(demo, client):
    _pat(client)
    definition = ApiDefinition.objects.get(name="fulfilment")
    url = reverse("apidocs:tryit", args=[definition.pk, 1])
    page = client.get(url, {"op": GET_SHIPMENT})
    assert page.status_code == 200 and "Staging" in page.content.decode()
    response = client.post(
        url, {"op": GET_SHIPMENT, "environment": "staging", "body": '{"id": "shp_1002"}'}
    )
    body = response.content.decode()
    assert response.status_code == 200, body
    assert "SHIPMENT_STATE_IN_TRANSIT" in body and "ord_42" in body


def test_pm_gets_an_http_answer_on_the_first_try(demo, client):
    _pat(client)
    definition = ApiDefinition.objects.get(name="cart")
    url = reverse("apidocs:tryit", args=[definition.pk, 1])
    assert client.get(url, {"op": "getCart"}).status_code == 200
    response = client.post(
        url, {"op": "getCart", "environment": "staging", "param:path:cartId": "cart-1"}
    )
    body = response.content.decode()
    assert response.status_code == 200, body
    assert "SKU-123" in body and "total_cents" in body


def test_demo_grpc_server_refuses_an_unknown_shipment_with_not_found(demo, client):
    _pat(client)
    definition = ApiDefinition.objects.get(name="fulfilment")
    response = client.post(
        reverse("apidocs:tryit", args=[definition.pk, 1]),
        {"op": GET_SHIPMENT, "environment": "staging", "body": '{"id": "nope"}'},
    )
    assert "NOT_FOUND" in response.content.decode()


def test_pm_may_not_call_production(demo, client):
    _pat(client)
    definition = ApiDefinition.objects.get(name="fulfilment")
    response = client.post(
        reverse("apidocs:tryit", args=[definition.pk, 1]),
        {"op": GET_SHIPMENT, "environment": "prod", "body": '{"id": "shp_1002"}'},
    )
    assert response.status_code == 403
    assert "not approved for try-it" in response.content.decode()


def test_seed_demo_twice_publishes_nothing_new(demo):
    call_command("seed_demo", "--if-empty", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert ApiDefinition.objects.get(name="fulfilment").versions.count() == 1
    assert Component.objects.filter(name="payments-fulfilment-121").count() == 1


def test_readme_tour_names_what_the_demo_seeds(demo):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    tour = readme[readme.index("## A tour of the demo") : readme.index("## Documentation")]
    services = set(re.findall(r"`([a-z]+-[a-z]+-\d+)`", tour))
    assert {"payments-fulfilment-121", "checkout-cart-3"} <= services
    assert Component.objects.filter(name__in=services).count() == len(services)
    for username in re.findall(r"`(alice|bob|carol|sam|pat|admin)`", tour):
        assert get_user_model().objects.filter(username=username).exists()
    alice_team = Component.objects.get(name="payments-fulfilment-121").owner
    assert alice_team.title == "Payments 1"
    assert Component.objects.get(name="checkout-cart-3").owner.title == "Checkout 1"
    from catalog.models import Namespace

    assert Namespace.objects.get(name="checkout").owner.title == "Checkout 1"


def test_demo_servers_listen_on_free_ports_so_a_second_demo_does_not_collide(demo, tmp_path):
    assert demo_api_ports() == {}  # nothing pinned: like every sandbox server
    second = start_sandbox(directory=tmp_path / "second", names=list(DEMO_API_SERVERS))
    try:
        first_ports = {demo.endpoints[name] for name in DEMO_API_SERVERS}
        assert first_ports.isdisjoint(second.endpoints[name] for name in DEMO_API_SERVERS)
    finally:
        second.stop()


def test_staging_addresses_follow_the_demo_servers_each_time_the_sandbox_starts(demo):
    staging = ComponentEnvironment.objects.get(
        component__name="payments-fulfilment-121", environment__name="staging"
    )
    assert staging.api_base_url == demo.endpoints["demo-grpc"]
    moved = {"demo-grpc": "http://127.0.0.1:41001", "demo-http": "http://127.0.0.1:41002"}
    assert "2 changed" in demo_api_addresses_follow(moved)
    staging.refresh_from_db()
    assert staging.api_base_url == "http://127.0.0.1:41001"
    event = AuditEvent.objects.filter(
        action="catalog.api_address_point", component=staging.component
    )
    event = event.latest("id")
    assert event.actor_label == "sandbox" and event.after == {"api_base_url": moved["demo-grpc"]}
    events = AuditEvent.objects.count()
    assert "0 changed" in demo_api_addresses_follow(moved)  # unchanged: nothing written
    assert AuditEvent.objects.count() == events


def test_pinned_demo_addresses_are_what_seed_demo_writes(db, settings, tmp_path):
    settings.SANDBOX_DIR = tmp_path
    settings.SANDBOX_DEMO_GRPC_ADDRESS = "127.0.0.1:45051"
    settings.SANDBOX_DEMO_HTTP_ADDRESS = "127.0.0.1:45080"
    assert demo_api_ports() == {"demo-grpc": 45051, "demo-http": 45080}
    call_command("seed_demo", "--services", "122", stdout=open("/dev/null", "w"))  # noqa: SIM115
    urls = dict(
        ComponentEnvironment.objects.filter(environment__name="staging")
        .exclude(api_base_url="")
        .values_list("component__name", "api_base_url")
    )
    assert urls == {
        "payments-fulfilment-121": "http://127.0.0.1:45051",
        "checkout-cart-3": "http://127.0.0.1:45080",
    }
