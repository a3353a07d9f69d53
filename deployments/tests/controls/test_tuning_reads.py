"""The tuning page says what the service picks up from its runtime ConfigMap, read from the live
pod template of the Kubernetes sandbox (the `shop` namespace's `cart`: FEATURE_FLAGS from the
`features` key, envFrom of the whole ConfigMap, config.json mounted as a file)."""

import copy

import pytest
from django.urls import reverse

from deployments.controls.tuning_reads import tuning_reads
from deployments.models import TuningKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(shop):
    cart = shop["components"]["cart"]
    for key, kind, default in [
        ("LOG_SAMPLING_RATE", "sampling", 0.1),
        ("feature.new-basket", "toggle", False),
        ("config.json", "json", {}),
    ]:
        TuningKey.objects.create(component=cart, key=key, kind=kind, default=default)
    return shop


def _rows(reads):
    return {r.key: r for r in reads.reads}


def test_each_key_says_how_the_service_reads_it_and_when_a_change_reaches_it(keys):
    rows = _rows(tuning_reads(keys["target"]("cart", "staging")))
    sampling = rows["LOG_SAMPLING_RATE"]
    assert [(w.kind, w.name) for w in sampling.ways] == [("env", "LOG_SAMPLING_RATE")]
    assert sampling.managed and sampling.needs_restart  # envFrom: read when a pod starts
    config = rows["config.json"]
    assert ("file", "/etc/runtime/config.json") in [(w.kind, w.name) for w in config.ways]
    assert not config.needs_restart  # a mounted file is refreshed in place
    toggle = rows["feature.new-basket"]
    assert toggle.ways[0].note == "not a valid shell variable name"


def test_a_key_the_service_reads_but_nobody_manages_is_listed(keys):
    features = _rows(tuning_reads(keys["target"]("cart", "staging")))["features"]
    assert not features.managed
    assert ("env", "FEATURE_FLAGS") in [(w.kind, w.name) for w in features.ways]


def test_a_key_the_deployment_does_not_read_is_called_out(keys):
    store = keys["sandbox"].clusters.get("staging").store
    deployment = copy.deepcopy(store.get("deployments", "shop", "cart"))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container.pop("envFrom")
    store.update("deployments", "shop", "cart", deployment)
    rows = _rows(tuning_reads(keys["target"]("cart", "staging")))
    assert not rows["LOG_SAMPLING_RATE"].read and rows["LOG_SAMPLING_RATE"].managed
    assert rows["config.json"].read  # still the mounted file
    assert "features" in rows  # still FEATURE_FLAGS


def test_tuning_page_loads_the_reads_of_each_environment_lazily(client, keys, owner):
    client.force_login(owner)
    cart = keys["components"]["cart"]
    page = client.get(reverse("deployments:tuning_page", args=[cart.pk])).content.decode()
    url = reverse("deployments:tuning_reads", args=[cart.pk, "staging"])
    assert f'hx-get="{url}"' in page and f'href="{url}"' in page
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'data-testid="tuning-reads"' in fragment
    assert "env <code>FEATURE_FLAGS</code>" in fragment and "not managed here" in fragment
    assert (
        "after a restart" in fragment and "file <code>/etc/runtime/config.json</code>" in fragment
    )
    whole = client.get(url).content.decode()
    assert "<html" in whole and "Runtime tuning of cart" in whole


def test_reads_say_so_when_the_cluster_cannot_be_read(client, keys, owner, kube_down):
    client.force_login(owner)
    url = reverse("deployments:tuning_reads", args=[keys["components"]["cart"].pk, "staging"])
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "could not be read" in fragment and "<table" not in fragment


def test_reads_need_a_signed_in_person(client, keys):
    url = reverse("deployments:tuning_reads", args=[keys["components"]["cart"].pk, "staging"])
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
