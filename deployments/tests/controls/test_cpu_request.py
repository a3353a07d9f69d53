"""The CPU request knob, added through the knob registry, against the Kubernetes sandbox."""

import pytest
from django.urls import reverse

from deployments.controls.services import control_request
from deployments.models import ControlAction
from portal.errors import PermissionDenied, ValidationFailed
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def cpu_guardrail(shop):
    for policy in shop["policies"].values():
        policy.cpu_request_enabled = True
        policy.cpu_request_min, policy.cpu_request_max = 100, 500
        policy.cpu_request_roles = ["owner_team", "sre"]
        policy.save()
    return shop


def cpu(shop, env="staging", name="cart"):
    container = shop["deployment"](env, name)["spec"]["template"]["spec"]["containers"][0]
    return container["resources"]["requests"]["cpu"]


def request_cpu(shop, actor, millicores, env="staging", **extra):
    extra.setdefault("reason", "throttled at peak")
    return control_request(
        actor=actor,
        target=shop["target"]("cart", env),
        kind="cpu_request",
        params={"millicores": millicores},
        **extra,
    )


def test_owner_sets_the_cpu_request_within_range_and_the_pods_get_it(
    cpu_guardrail, owner, django_capture_on_commit_callbacks
):
    shop = cpu_guardrail
    before = cpu(shop)
    with django_capture_on_commit_callbacks(execute=True):
        action = request_cpu(shop, owner, 400)
    action.refresh_from_db()
    assert action.state == "done", action.message
    assert action.message == "CPU request set to 400m: pods are replaced one by one."
    assert cpu(shop) == "400m" and before != "400m"
    memory = shop["deployment"]("staging", "cart")["spec"]["template"]["spec"]["containers"][0]
    assert memory["resources"]["requests"]["memory"]  # the rest of the container is kept
    event = AuditEvent.objects.get(action="control.cpu_request")
    assert event.after == {"millicores": 400} and event.actor == owner
    assert event.before == action.before and action.before["millicores"] is not None


def test_other_team_is_denied_and_nothing_changes(cpu_guardrail, outsider):
    shop = cpu_guardrail
    before = cpu(shop)
    with pytest.raises(PermissionDenied, match="change the CPU request of"):
        request_cpu(shop, outsider, 300)
    assert AuditEvent.objects.get().outcome == "denied"
    assert not ControlAction.objects.exists()
    assert cpu(shop) == before


def test_out_of_range_is_refused_and_nothing_reaches_the_cluster(cpu_guardrail, owner):
    shop = cpu_guardrail
    version = shop["deployment"]("staging", "cart")["metadata"]["resourceVersion"]
    with pytest.raises(ValidationFailed, match="outside the allowed range 100–500"):
        request_cpu(shop, owner, 4000)
    with pytest.raises(ValidationFailed, match="whole number"):
        request_cpu(shop, owner, "half a core")
    assert shop["deployment"]("staging", "cart")["metadata"]["resourceVersion"] == version
    assert not ControlAction.objects.exists()


def test_without_the_guardrail_the_knob_is_not_offered_nor_allowed(shop, owner, client):
    with pytest.raises(PermissionDenied):
        request_cpu(shop, owner, 300)
    client.force_login(owner)
    url = reverse("deployments:control_live", args=[shop["components"]["cart"].pk, "staging"])
    assert "knob-cpu_request" not in client.get(url, HTTP_HX_REQUEST="true").content.decode()


def test_the_form_posts_to_the_knob_and_production_asks_for_confirmation(
    cpu_guardrail, owner, client, django_capture_on_commit_callbacks
):
    shop = cpu_guardrail
    client.force_login(owner)
    cart = shop["components"]["cart"].pk
    html = client.get(
        reverse("deployments:control_live", args=[cart, "staging"]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "knob-cpu_request" in html and "Millicores (allowed 100–500)" in html
    url = reverse("deployments:control_change", args=[cart, "production", "cpu_request"])
    before = cpu(shop, "production")
    response = client.post(url, {"millicores": "300", "reason": "peak"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Set the CPU request of cart to 300m" in html and 'name="confirm"' in html
    assert cpu(shop, "production") == before and not ControlAction.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url,
            {"millicores": "300", "reason": "peak", "confirm": "1"},
            HTTP_HX_REQUEST="true",
        )
    assert cpu(shop, "production") == "300m"


def test_an_unknown_knob_is_a_404(shop, owner, client):
    client.force_login(owner)
    url = reverse(
        "deployments:control_change", args=[shop["components"]["cart"].pk, "staging", "sudo"]
    )
    assert client.post(url, {"reason": "x"}).status_code == 404
