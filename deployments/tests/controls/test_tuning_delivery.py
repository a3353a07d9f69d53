"""After a tuning change the card follows its delivery to the ConfigMap, then stops polling."""

import pytest
from django.urls import reverse

from deployments.controls.tuning_machine import tuning_push
from deployments.models import TuningKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def sampling(shop):
    return TuningKey.objects.create(
        component=shop["components"]["cart"], key="LOG_SAMPLING_RATE", kind="sampling", default=0.1
    )


def test_a_change_polls_until_the_worker_delivered_it_then_stops(
    client, shop, sampling, owner, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    cart = shop["components"]["cart"]
    url = reverse("deployments:tuning_set", args=[sampling.pk, "staging"])
    with django_capture_on_commit_callbacks(execute=False):  # the worker has not run yet
        card = client.post(url, {"value": "0.5"}, HTTP_HX_REQUEST="true").content.decode()
    delivery = reverse("deployments:tuning_delivery", args=[cart.pk, "staging"])
    assert f'hx-get="{delivery}"' in card and 'hx-trigger="every 2s"' in card
    assert "being delivered" in card
    response = client.get(delivery, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "delivering" in response.content.decode()
    tuning_push(component_id=cart.pk, environment_id=shop["envs"]["staging"].pk)  # the worker
    response = client.get(delivery, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 286  # htmx swaps it in and stops polling
    assert "hx-get" not in body.split("</p>")[0] and "delivered" in body
    assert 'id="delivered-staging-log_sampling_rate" hx-swap-oob="true"' in body
    assert "being delivered" not in body
    assert shop["configmap"]("staging", "cart-runtime")["data"]["LOG_SAMPLING_RATE"] == "0.5"


def test_a_settled_card_does_not_poll(client, shop, sampling, owner):
    client.force_login(owner)
    page = client.get(reverse("deployments:tuning_page", args=[shop["components"]["cart"].pk]))
    assert 'hx-trigger="every 2s"' not in page.content.decode()


def test_delivery_without_htmx_goes_to_the_tuning_page(client, shop, owner):
    client.force_login(owner)
    cart = shop["components"]["cart"]
    response = client.get(reverse("deployments:tuning_delivery", args=[cart.pk, "staging"]))
    assert response.status_code == 302 and response["Location"].endswith("#tuning-staging")


def test_delivery_needs_a_signed_in_person(client, shop):
    cart = shop["components"]["cart"]
    response = client.get(reverse("deployments:tuning_delivery", args=[cart.pk, "staging"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
