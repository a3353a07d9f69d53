"""Guardrails in the admin: platform admins only, validated, every change audited."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from catalog.models import Environment
from deployments.models import ControlPolicy
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform_admin(make_user):
    user = make_user("pia", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="platform-admin")[0])
    return user


def policy_form(environment, **extra):
    data = {
        "environment": environment.pk,
        "note": "",
        "replicas_enabled": "on",
        "replicas_min": 1,
        "replicas_max": 6,
        "replicas_roles": ["owner_team", "sre"],
        "hpa_min_from": 1,
        "hpa_min_to": 4,
        "hpa_max_from": 2,
        "hpa_max_to": 10,
        "cpu_from": 50,
        "cpu_to": 85,
        "restart_roles": [],
        "hpa_roles": [],
    }
    return data | extra


def test_platform_admin_adds_a_default_policy_and_it_is_audited(client, platform_admin):
    staging = Environment.objects.create(name="staging")
    client.force_login(platform_admin)
    response = client.post(reverse("admin:deployments_controlpolicy_add"), policy_form(staging))
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = ControlPolicy.objects.get()
    assert policy.component is None and policy.replicas_roles == ["owner_team", "sre"]
    assert AuditEvent.objects.get(action="guardrail.admin_add").actor == platform_admin


def test_production_policy_cannot_name_other_teams(client, platform_admin):
    prod = Environment.objects.create(name="prod", is_production=True)
    client.force_login(platform_admin)
    data = policy_form(prod, replicas_roles=["other_teams"], cpu_from=90, cpu_to=50)
    response = client.post(reverse("admin:deployments_controlpolicy_add"), data)
    html = response.content.decode()
    assert response.status_code == 200 and "Production stays with the owning team" in html
    assert "must not be below the lower bound" in html
    assert not ControlPolicy.objects.exists()


def test_staff_sre_may_read_but_not_change_guardrails(client, make_user):
    sre = make_user("sam", is_staff=True)
    sre.groups.add(Group.objects.get_or_create(name="sre")[0])
    staging = Environment.objects.create(name="staging")
    client.force_login(sre)
    assert client.get(reverse("admin:deployments_controlpolicy_changelist")).status_code == 200
    response = client.post(reverse("admin:deployments_controlpolicy_add"), policy_form(staging))
    assert response.status_code == 403 and not ControlPolicy.objects.exists()


def test_a_tuning_key_changed_or_deleted_in_the_admin_reaches_the_configmap(
    client, platform_admin, shop, django_capture_on_commit_callbacks
):
    from deployments.models import TuningKey

    cart = shop["components"]["cart"]
    key = TuningKey.objects.create(component=cart, key="BASKET_LIMIT", kind="int", default=50)
    client.force_login(platform_admin)
    form = {"component": cart.pk, "key": "BASKET_LIMIT", "kind": "int", "default": "70",
            "description": "", "minimum": "", "maximum": ""}  # fmt: skip
    url = reverse("admin:deployments_tuningkey_change", args=[key.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form)
    assert response.status_code == 302, response.content[:500]
    for env in ("staging", "production"):
        assert shop["configmap"](env, "cart-runtime")["data"]["BASKET_LIMIT"] == "70"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:deployments_tuningkey_delete", args=[key.pk]), {"post": "yes"})
    assert not TuningKey.objects.filter(pk=key.pk).exists()
    for env in ("staging", "production"):
        assert "BASKET_LIMIT" not in (shop["configmap"](env, "cart-runtime").get("data") or {})
