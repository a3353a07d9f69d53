import pytest
from django.contrib.auth.models import Group

from catalog.models import Component, Dependency, Team
from portal.audit import audit_verify
from portal.models import AuditEvent


@pytest.fixture
def platform_admin(make_user):
    user = make_user("pia", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="platform-admin")[0])
    return user


@pytest.fixture
def sre(make_user):
    user = make_user("sasha", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="sre")[0])
    return user


@pytest.fixture
def ledger(db):
    return Component.objects.create(name="ledger", owner=Team.objects.create(name="payments"))


def change_form(component, **changes):
    data = {
        "name": component.name,
        "metadata_namespace": component.metadata_namespace,
        "entity_kind": component.entity_kind,
        "kind": component.kind,
        "lifecycle": "production",
        "tier": 2,
        "owner": component.owner_id or "",
        "tags": "[]",
        "links": "[]",
        "annotations": "{}",
        "extra": "{}",
    }
    data.update(changes)
    for prefix in (
        "subcomponents",
        "dependencies",
        "deployments",
        "api_relations",
        "dependents",
        "api_users",
    ):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data


def test_platform_admin_edit_is_audited_in_the_chain(client, platform_admin, ledger):
    client.force_login(platform_admin)
    url = f"/admin/catalog/component/{ledger.pk}/change/"
    response = client.post(url, change_form(ledger, description="Double-entry books"))
    assert response.status_code == 302, response.content.decode()[:2000]
    ledger.refresh_from_db()
    assert ledger.description == "Double-entry books"
    event = AuditEvent.objects.get(action="catalog_component.admin_change")
    assert event.actor == platform_admin and event.component == ledger
    assert audit_verify() == []


def test_sre_reads_the_catalog_admin_but_cannot_change_it(client, sre, ledger):
    client.force_login(sre)
    url = f"/admin/catalog/component/{ledger.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, change_form(ledger, description="mine"))
    assert response.status_code == 403
    ledger.refresh_from_db()
    assert ledger.description == ""


def test_inline_edge_added_in_the_admin_is_audited(client, platform_admin, ledger):
    billing = Component.objects.create(name="billing")
    client.force_login(platform_admin)
    data = change_form(ledger)
    data.update(
        {
            "dependencies-TOTAL_FORMS": 1,
            "dependencies-0-target": billing.pk,
            "dependencies-0-kind": "sync",
            "dependencies-0-criticality": "high",
        }
    )
    response = client.post(f"/admin/catalog/component/{ledger.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Dependency.objects.filter(source=ledger, target=billing).exists()
    assert AuditEvent.objects.filter(
        action="catalog_dependency.admin_add", component=ledger
    ).exists()
