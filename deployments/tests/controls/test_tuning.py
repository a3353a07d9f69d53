"""Runtime tuning: typed values, ConfigMap delivery, beat reverting overrides, the JSON endpoint."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deployments.controls import tasks
from deployments.controls.tuning import (
    runtime_token_issue,
    tuning_override,
    tuning_parse,
    tuning_revert,
    tuning_set,
)
from deployments.controls.tuning_machine import tuning_push
from deployments.models import TuningKey, TuningValue
from integrations.errors import IntegrationError
from portal.errors import PermissionDenied, ValidationFailed
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(shop):
    cart = shop["components"]["cart"]
    return {
        "sampling": TuningKey.objects.create(
            component=cart, key="LOG_SAMPLING_RATE", kind="sampling", default=0.1
        ),
        "toggle": TuningKey.objects.create(
            component=cart, key="feature.new-basket", kind="toggle", default=False
        ),
        "limit": TuningKey.objects.create(
            component=cart, key="BASKET_LIMIT", kind="int", default=50, minimum=1, maximum=500
        ),
        "json": TuningKey.objects.create(
            component=cart, key="pricing.json", kind="json", default={"tiers": []}
        ),
    }


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("sampling", "100%", 1.0),
        ("sampling", "0.25", 0.25),
        ("toggle", "on", True),
        ("bool", "false", False),
        ("int", "42", 42),
        ("float", "1.5", 1.5),
        ("string", " hello ", "hello"),
        ("json", '{"a": [1, 2]}', {"a": [1, 2]}),
    ],
)
def test_values_are_parsed_by_kind(kind, raw, expected):
    assert tuning_parse(TuningKey(key="k", kind=kind, default=None), raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        ("sampling", "150%", "between 0 and 1"),
        ("toggle", "maybe", "true or false"),
        ("int", "4.5", "whole number"),
        ("float", "nan", "finite"),
        ("json", "{oops}", "not valid JSON"),
    ],
)
def test_bad_values_are_refused_with_a_reason(kind, raw, message):
    with pytest.raises(ValidationFailed, match=message):
        tuning_parse(TuningKey(key="k", kind=kind, default=None), raw)


def test_set_merges_into_the_configmap_keeping_other_keys(
    shop, keys, owner, django_capture_on_commit_callbacks
):
    staging = shop["envs"]["staging"]
    with django_capture_on_commit_callbacks(execute=True):
        tuning_set(actor=owner, key=keys["toggle"], environment=staging, raw="true", reason="beta")
    data = shop["configmap"]("staging", "cart-runtime")["data"]
    assert data["feature.new-basket"] == "true"
    assert data["LOG_SAMPLING_RATE"] == "0.1" and data["BASKET_LIMIT"] == "50"
    assert data["pricing.json"] == '{"tiers":[]}'
    assert data["config.json"] == "{}"  # a key Switchyard does not manage stays: merge, not replace
    event = AuditEvent.objects.get(action="tuning.set")
    assert event.after == {"key": "feature.new-basket", "value": True} and event.reason == "beta"
    assert TuningValue.objects.get().pushed_at is not None


def test_out_of_range_value_changes_nothing(shop, keys, owner):
    with pytest.raises(ValidationFailed, match="between 1 and 500"):
        tuning_set(actor=owner, key=keys["limit"], environment=shop["envs"]["staging"], raw="900")
    assert not TuningValue.objects.exists()
    assert shop["configmap"]("staging", "cart-runtime")["data"].get("BASKET_LIMIT") is None


def test_other_team_may_not_tune_production(shop, keys, outsider):
    with pytest.raises(PermissionDenied):
        tuning_set(
            actor=outsider, key=keys["limit"], environment=shop["envs"]["production"], raw="5"
        )
    assert AuditEvent.objects.get().outcome == "denied"


def test_override_is_reverted_by_beat_at_expiry_and_audited(
    shop, keys, sre, django_capture_on_commit_callbacks
):
    production = shop["envs"]["production"]
    with django_capture_on_commit_callbacks(execute=True):
        value = tuning_override(
            actor=sre,
            key=keys["sampling"],
            environment=production,
            raw="100%",
            minutes=30,
            reason="incident 4411",
        )
    assert shop["configmap"]("production", "cart-runtime")["data"]["LOG_SAMPLING_RATE"] == "1.0"
    assert tasks.tuning_expire() == 0  # not yet
    TuningValue.objects.filter(pk=value.pk).update(
        override_until=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.tuning_expire() == 1
    value.refresh_from_db()
    assert value.override_until is None and value.effective == 0.1
    assert shop["configmap"]("production", "cart-runtime")["data"]["LOG_SAMPLING_RATE"] == "0.1"
    event = AuditEvent.objects.get(action="tuning.override_expire")
    assert event.actor is None and event.actor_label == "switchyard:beat"
    assert tasks.tuning_expire() == 0  # a second beat finds nothing


def test_a_late_revert_does_not_end_a_newer_override(shop, keys, owner):
    staging = shop["envs"]["staging"]
    first = tuning_override(
        actor=owner, key=keys["sampling"], environment=staging, raw="0.5", minutes=5
    )
    seen = first.override_until
    second = tuning_override(
        actor=owner, key=keys["sampling"], environment=staging, raw="1", minutes=60
    )
    assert tuning_revert(actor=None, value=second, until=seen) is False
    second.refresh_from_db()
    assert second.override_value == 1.0 and second.override_until > seen
    assert not AuditEvent.objects.filter(action="tuning.override_expire").exists()


def test_override_length_is_bounded(shop, keys, owner):
    with pytest.raises(ValidationFailed, match="1 to 1440 minutes"):
        tuning_override(
            actor=owner,
            key=keys["sampling"],
            environment=shop["envs"]["staging"],
            raw="1",
            minutes=0,
        )


def test_tuning_page_shows_countdown_and_reverting_early_is_one_click(
    client, shop, keys, owner, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    staging = shop["envs"]["staging"]
    value = tuning_override(
        actor=owner, key=keys["sampling"], environment=staging, raw="100%", minutes=30
    )
    cart = shop["components"]["cart"]
    html = client.get(reverse("deployments:tuning_page", args=[cart.pk])).content.decode()
    assert 'class="countdown"' in html and "Revert now" in html
    url = reverse("deployments:tuning_revert", args=[keys["sampling"].pk, "staging"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"until": value.override_until.isoformat()}, HTTP_HX_REQUEST="true"
        )
    assert b"back to its lasting value" in response.content
    value.refresh_from_db()
    assert value.override_until is None
    assert shop["configmap"]("staging", "cart-runtime")["data"]["LOG_SAMPLING_RATE"] == "0.1"
    assert AuditEvent.objects.filter(action="tuning.revert", actor=owner).count() == 1


def test_tuning_form_error_is_shown_in_the_fragment(client, shop, keys, owner):
    client.force_login(owner)
    url = reverse("deployments:tuning_set", args=[keys["toggle"].pk, "staging"])
    response = client.post(url, {"value": "perhaps"}, HTTP_HX_REQUEST="true")
    assert b"true or false" in response.content and not TuningValue.objects.exists()


def test_runtime_json_needs_the_services_token(client, shop, keys, owner):
    url = reverse("deployments:runtime_json", args=["cart", "staging"])
    assert client.get(url).status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    token = runtime_token_issue(actor=owner, component=shop["components"]["cart"])
    tuning_override(
        actor=owner, key=keys["sampling"], environment=shop["envs"]["staging"], raw="1", minutes=30
    )
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["values"]["LOG_SAMPLING_RATE"] == 1.0
    assert body["values"]["feature.new-basket"] is False
    assert body["values"]["pricing.json"] == {"tiers": []}
    assert body["overrides"]["LOG_SAMPLING_RATE"]["value"] == 1.0
    other = reverse("deployments:runtime_json", args=["checkout", "staging"])
    assert client.get(other, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    nowhere = reverse("deployments:runtime_json", args=["cart", "qa"])
    assert client.get(nowhere, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 404


def test_issuing_a_new_token_retires_the_old_one(client, shop, keys, owner):
    cart = shop["components"]["cart"]
    old = runtime_token_issue(actor=owner, component=cart)
    client.force_login(owner)
    html = client.post(reverse("deployments:runtime_token_issue", args=[cart.pk])).content
    new = html.decode().split('<pre class="card runtime-token">')[1].split("</pre>")[0]
    client.logout()
    url = reverse("deployments:runtime_json", args=["cart", "staging"])
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {old}").status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {new}").status_code == 200


def test_push_failure_is_recorded_on_the_rows_and_the_value_kept(
    shop, keys, owner, kube_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tuning_set(actor=owner, key=keys["limit"], environment=shop["envs"]["staging"], raw="7")
    value = TuningValue.objects.get()
    assert value.value == 7 and "unreachable" in value.push_error
    with pytest.raises(IntegrationError):
        tuning_push(
            component_id=shop["components"]["cart"].pk, environment_id=shop["envs"]["staging"].pk
        )


def test_production_tuning_needs_a_reason_like_every_knob(shop, keys, owner):
    production = shop["envs"]["production"]
    with pytest.raises(ValidationFailed, match="production: say why"):
        tuning_set(actor=owner, key=keys["toggle"], environment=production, raw="true")
    with pytest.raises(ValidationFailed, match="production: say why"):
        tuning_override(
            actor=owner, key=keys["toggle"], environment=production, raw="true", minutes=15
        )
    assert not TuningValue.objects.exists()
    assert "feature.new-basket" not in shop["configmap"]("production", "cart-runtime")["data"]


def test_toggle_is_a_switch_and_posting_it_off_or_on_works(
    client, shop, keys, owner, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    page = client.get(reverse("deployments:tuning_page", args=[shop["components"]["cart"].pk]))
    html = page.content.decode()
    assert 'role="switch" name="value" value="true"' in html
    url = reverse("deployments:tuning_set", args=[keys["toggle"].pk, "staging"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"value": ["false", "true"], "reason": "on"}, HTTP_HX_REQUEST="true")
    assert shop["configmap"]("staging", "cart-runtime")["data"]["feature.new-basket"] == "true"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"value": ["false"], "reason": "off"}, HTTP_HX_REQUEST="true")
    assert shop["configmap"]("staging", "cart-runtime")["data"]["feature.new-basket"] == "false"
