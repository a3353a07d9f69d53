"""The live deployment fragment and the knob forms, through the Django test client."""

import pytest
from django.urls import reverse

from deployments.models import ControlAction
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


def live_url(shop, name="cart", env="staging"):
    return reverse("deployments:control_live", args=[shop["components"][name].pk, env])


def knob_url(shop, knob, name="cart", env="staging"):
    return reverse(f"deployments:control_{knob}", args=[shop["components"][name].pk, env])


def test_service_page_loads_live_data_lazily_through_htmx(client, shop, owner):
    client.force_login(owner)
    component = shop["components"]["cart"]
    html = client.get(component.get_absolute_url()).content.decode()
    assert 'hx-trigger="load"' in html
    assert f'hx-get="{live_url(shop)}"' in html and f'href="{live_url(shop)}"' in html
    assert "registry.example.com" not in html  # the page itself never asked Kubernetes


def test_live_fragment_shows_configuration_with_secrets_redacted(client, shop, owner):
    client.force_login(owner)
    response = client.get(live_url(shop, "checkout"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<h1>" not in html  # a fragment, not the page
    assert "registry.example.com/checkout:2.3.1" in html
    assert "2–6 replicas, target CPU 70%" in html
    assert "from Secret <code>checkout-credentials</code>" in html and "redacted" in html
    assert "ConfigMap <code>checkout-runtime</code>" in html
    assert "Replicas (allowed 1–6)" in html
    assert "autoscaler checkout controls replicas" in html  # warned before acting
    assert "Only Owning team leads, SREs may restart here." in html


def test_live_page_without_htmx_is_a_whole_page(client, shop, owner):
    client.force_login(owner)
    html = client.get(live_url(shop)).content.decode()
    assert "<h1>cart: live deployment</h1>" in html and "Replicas (allowed 1–6)" in html


def test_anonymous_is_sent_to_login(client, shop):
    assert client.get(live_url(shop)).status_code == 302


def test_owner_scales_through_the_htmx_form_and_watches_it_finish(
    client, shop, owner, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            knob_url(shop, "scale"),
            {"replicas": "4", "reason": "load test"},
            HTTP_HX_REQUEST="true",
        )
    html = response.content.decode()
    assert response.status_code == 200 and "Scale requested: queued." in html
    assert "replicas=4" in html and 'hx-trigger="every 2s"' in html  # polls the change
    assert shop["deployment"]("staging", "cart")["spec"]["replicas"] == 4
    url = reverse("deployments:control_actions", args=[shop["components"]["cart"].pk, "staging"])
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 286  # done: htmx stops polling
    assert b"Replicas set to 4." in response.content


def test_out_of_range_form_says_why_and_sends_nothing(client, shop, owner):
    client.force_login(owner)
    response = client.post(
        knob_url(shop, "scale"), {"replicas": "40", "reason": "x"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "Replicas 40 is outside the allowed range 1–6" in html
    assert 'value="40"' in html  # the input is kept for correction
    assert shop["deployment"]("staging", "cart")["spec"]["replicas"] == 3
    assert not ControlAction.objects.exists()


def test_outsider_gets_403_with_the_reason(client, shop, outsider):
    client.force_login(outsider)
    response = client.post(
        knob_url(shop, "scale"), {"replicas": "4", "reason": "x"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    assert "guardrails do not give this knob to you" in response["X-Error-Message"]
    assert AuditEvent.objects.get().outcome == "denied"


def test_production_shows_a_confirmation_step_first(
    client, shop, owner, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    url = knob_url(shop, "scale", env="production")
    data = {"replicas": "5", "reason": "launch"}
    html = client.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    assert "Yes, change production" in html and 'name="confirm" value="1"' in html
    assert shop["deployment"]("production", "cart")["spec"]["replicas"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, data | {"confirm": "1"}, HTTP_HX_REQUEST="true")
    assert shop["deployment"]("production", "cart")["spec"]["replicas"] == 5


def test_api_down_fragment_shows_unknown_and_refuses_the_write(client, shop, owner, kube_down):
    client.force_login(owner)
    html = client.get(live_url(shop), HTTP_HX_REQUEST="true").content.decode()
    assert "configuration unknown" in html and "unreachable" in html
    assert "refuses changes until the Kubernetes API of staging answers" in html
    assert "Replicas (allowed" not in html  # no form without a known state
    html = client.post(
        knob_url(shop, "scale"), {"replicas": "4", "reason": "x"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "cannot be read" in html and "Nothing was sent to the cluster" in html


def test_a_refusal_because_the_api_is_down_waits_for_it_once(
    client, shop, owner, kube_down, monkeypatch
):
    from deployments.controls import selectors

    reads = []
    real = selectors.control_live
    monkeypatch.setattr(selectors, "control_live", lambda t: reads.append(t) or real(t))
    from deployments.controls import services

    monkeypatch.setattr(services, "control_live", selectors.control_live)
    client.force_login(owner)
    html = client.post(
        knob_url(shop, "scale"), {"replicas": "4", "reason": "x"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "cannot be read" in html and "configuration unknown" in html
    assert len(reads) == 1  # the service's read is the one the card shows


def test_actions_keep_polling_while_a_change_is_queued(client, shop, owner):
    client.force_login(owner)
    client.post(knob_url(shop, "scale"), {"replicas": "2", "reason": "quiet night"})
    url = reverse("deployments:control_actions", args=[shop["components"]["cart"].pk, "staging"])
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"quiet night" in response.content
    assert b'hx-trigger="every 2s"' in response.content


def test_live_card_follows_a_change_until_kubernetes_shows_it_then_stops(
    client, shop, owner, django_capture_on_commit_callbacks
):
    from integrations.tests.conftest import wait_until

    client.force_login(owner)
    state = live_url(shop) + "?part=state"
    before = client.get(state, HTTP_HX_REQUEST="true")
    assert before.status_code == 286 and b"data-settling" not in before.content  # nothing to follow
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            knob_url(shop, "scale"),
            {"replicas": "4", "reason": "load test"},
            HTTP_HX_REQUEST="true",
        )
    html = response.content.decode()
    assert "data-settling" in html and "?part=state" in html  # the card reads Kubernetes again

    def settled():
        answer = client.get(state, HTTP_HX_REQUEST="true")
        return answer.status_code == 286 and answer

    final = wait_until(settled, timeout=30, interval=0.2).content.decode()
    assert '<span class="replicas-desired">4</span> desired · 4 ready' in final
    assert "data-settling" not in final and "<form" not in final  # the knobs are left alone


def test_rollout_restart_and_recent_restarts_agree(
    client, shop, lead, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(knob_url(shop, "restart"), {"reason": "stuck"}, HTTP_HX_REQUEST="true")
    html = client.get(live_url(shop), HTTP_HX_REQUEST="true").content.decode()
    assert "Rollout restart" in html and "every pod was replaced" in html
    assert ">none<" not in html.split("Recent restarts", 1)[1].split("</tr>", 1)[0]


def test_live_card_lists_the_pods_with_version_ready_restarts_and_age(client, shop, owner):
    client.force_login(owner)
    html = client.get(live_url(shop), HTTP_HX_REQUEST="true").content.decode()
    pods = html.split('data-testid="pods"', 1)[1].split("</table>", 1)[0]
    deployment = shop["deployment"]("staging", "cart")
    assert pods.count("<tr>") - 1 == deployment["spec"]["replicas"]  # header row + one per pod
    tag = deployment["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
    assert f"<td>{tag}</td>" in pods and "<td>1/1</td>" in pods
    assert "<code>cart-" in pods


def test_production_restart_asks_for_confirmation_first(client, shop, lead):
    client.force_login(lead)
    response = client.post(
        knob_url(shop, "restart", env="production"), {"reason": "stuck"}, HTTP_HX_REQUEST="true"
    )
    assert "production: confirm the change" in response.content.decode()
    assert not ControlAction.objects.exists()
