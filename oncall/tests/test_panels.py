"""The PagerDuty cards against the PagerDuty sandbox (the official client, over https)."""

import pytest
from django.urls import reverse

from deployments.models import Release

HX = {"HTTP_HX_REQUEST": "true"}


def card(client, name: str, component) -> str:
    response = client.get(reverse(f"oncall:panel_{name}", args=[component.pk]), **HX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    return response.content.decode()


def test_service_card_shows_who_is_on_call_now_and_next_and_open_incidents(
    client, owner, ledger, paging, incident
):
    incident(paging["services"]["ledger"], "ledger writes fail")
    incident(paging["services"]["checkout"], "checkout slow")  # another service's
    client.force_login(owner)
    html = card(client, "on_call", ledger)
    assert '<dd data-level="1"><strong>Alice</strong>' in html
    assert '<dd data-level="2"><strong>Carol</strong>' in html
    assert "<dd data-next><strong>Bob</strong>" in html
    assert "Open incidents (1)" in html and "ledger writes fail" in html
    assert "checkout slow" not in html
    # A second look reads the three side by side (the escalation policy kept): the same card.
    incident(paging["services"]["ledger"], "ledger reads slow")
    again = card(client, "on_call", ledger)
    assert '<dd data-level="1"><strong>Alice</strong>' in again
    assert "<dd data-next><strong>Bob</strong>" in again
    assert "Open incidents (2)" in again and "ledger reads slow" in again


def test_incidents_card_covers_the_blast_radius(client, outsider, ledger, paging, incident):
    incident(paging["services"]["ledger"], "ledger writes fail", "low")
    incident(paging["services"]["checkout"], "checkout 5xx")
    incident(paging["services"]["search"], "search down")  # not in ledger's blast radius
    client.force_login(outsider)
    html = card(client, "incidents", ledger)
    assert 'data-component="checkout"' in html and "checkout 5xx" in html
    assert "(depends on it, 1 hop)" in html
    assert 'data-component="ledger"' in html and "ledger writes fail" in html
    assert "search down" not in html
    assert "2 PagerDuty services, 1 component without" in html
    assert html.index("ledger writes fail") < html.index("checkout 5xx")  # the service first


def test_a_component_without_the_annotation_says_how_to_add_it(client, owner, ledger):
    client.force_login(owner)
    html = card(client, "on_call", ledger)
    assert "pagerduty.com/service-id" in html and "catalog-info.yaml" in html


def test_pagerduty_down_the_cards_say_so_and_the_pages_render(
    client, owner, ledger, paging, pagerduty_world, settings
):
    client.force_login(owner)
    pagerduty_world.arm_fault(kind="error", status=503)
    for name in ("on_call", "incidents"):
        html = card(client, name, ledger)
        assert "PagerDuty could not be asked" in html and "tries again by itself" in html
    assert client.get(ledger.get_absolute_url()).status_code == 200
    settings.INTEGRATION_URLS = {**settings.INTEGRATION_URLS, "pagerduty": "https://127.0.0.1:9"}
    assert "PagerDuty could not be asked" in card(client, "on_call", ledger)


@pytest.mark.parametrize("page", ["service", "release", "approval"])
def test_pages_load_the_cards_lazily(client, owner, ledger, environments, page):
    from portal.tests.test_panels import _approval

    client.force_login(owner)
    release = Release.objects.create(
        component=ledger, environment=environments["prod"], version="2.0.0", state="paused"
    )
    urls = {
        "service": ledger.get_absolute_url(),
        "release": release.get_absolute_url(),
        "approval": _approval(ledger, environments["prod"], owner, release).get_absolute_url(),
    }
    html = client.get(urls[page]).content.decode()
    cards = {"service": ["on_call"], "release": ["incidents"], "approval": ["on_call", "incidents"]}
    for name in cards[page]:
        url = reverse(f"oncall:panel_{name}", args=[ledger.pk])
        assert f'hx-get="{url}"' in html and f'href="{url}"' in html
    if page == "service":
        assert "panel-incidents" not in html
