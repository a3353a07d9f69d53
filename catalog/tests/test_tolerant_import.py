"""The tolerant import: unknown references wait for their target, from whatever import brings it."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from catalog.backstage import catalog_import
from catalog.models import ApiRelation, Component, Dependency, Team, UnresolvedRelation

pytestmark = pytest.mark.django_db

CHECKOUT = """
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  annotations: {switchyard.dev/dependency-kinds: "component:cart=event@cart.v1"}
spec:
  type: service
  lifecycle: production
  owner: payments
  system: shop
  dependsOn: [component:cart]
  providesApis: [checkout-api]
"""
ORG = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: commerce}
spec: {owner: payments}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: shop}
spec: {owner: payments, domain: commerce}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: cart}
spec: {type: service, lifecycle: production, owner: payments}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: checkout-api}
spec: {type: openapi, lifecycle: production, owner: payments, definition: "openapi: 3.0.0"}
"""


def pending() -> set:
    return set(UnresolvedRelation.objects.values_list("field", "target", "detail"))


def test_unknown_references_are_kept_then_resolved_by_the_import_that_brings_them(write):
    repo = write("checkout/catalog-info.yaml", CHECKOUT)
    report = catalog_import(paths=[repo])
    checkout = Component.objects.get(name="checkout")
    assert report.created == 1 and checkout.owner is None and checkout.system is None
    assert pending() == {
        ("owner", "group:default/payments", ""),
        ("system", "system:default/shop", ""),
        ("dependsOn", "component:default/cart", "event@cart.v1"),
        ("providesApis", "api:default/checkout-api", ""),
    }
    assert catalog_import(paths=[repo]).unchanged == 1  # still waiting: nothing changed

    report = catalog_import(paths=[write("org/catalog-info.yaml", ORG)])

    assert report.resolved == 4 and pending() == set()
    checkout.refresh_from_db()
    assert (checkout.owner.name, checkout.system.name, checkout.namespace.name) == (
        "payments",
        "shop",
        "commerce",
    )
    edge = Dependency.objects.get(source=checkout)
    assert (edge.target.name, edge.kind, edge.topic) == ("cart", "event", "cart.v1")
    assert ApiRelation.objects.get(component=checkout).api.name == "checkout-api"
    # What the resolution wrote is what importing both together writes.
    assert catalog_import(paths=[repo]).unchanged == 1


def test_a_team_added_in_the_admin_resolves_the_waiting_owner_on_the_next_beat(write):
    from catalog.tasks import relations_resolve_task

    catalog_import(paths=[write("c.yaml", CHECKOUT)])
    assert relations_resolve_task() == 0  # nothing arrived yet
    team = Team.objects.create(name="payments")
    assert relations_resolve_task() == 1
    assert Component.objects.get(name="checkout").owner == team
    assert ("owner", "group:default/payments", "") not in pending()


def test_a_reference_to_an_invalid_entity_waits_like_any_unknown_one(write):
    path = write(
        "c.yaml",
        CHECKOUT
        + """---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments}
spec: {type: team, profile: not-a-mapping}
""",
    )
    report = catalog_import(paths=[path])
    assert [p.line for p in report.rejected] == [17]  # the spec line of the Group
    assert "spec.profile must be a mapping" in report.rejected[0].message
    assert Team.objects.count() == 0 and Component.objects.count() == 1
    assert ("owner", "group:default/payments", "") in pending()


def test_memberships_and_children_wait_for_their_people_and_teams(write):
    catalog_import(
        paths=[
            write(
                "org.yaml",
                """
                apiVersion: backstage.io/v1alpha1
                kind: Group
                metadata: {name: finance}
                spec: {type: department, children: [payments], members: [ann]}
                """,
            )
        ]
    )
    assert {(f, t) for f, t, _ in pending()} == {
        ("children", "group:default/payments"),
        ("members", "user:default/ann"),
    }
    catalog_import(
        paths=[
            write(
                "people.yaml",
                """
                apiVersion: backstage.io/v1alpha1
                kind: Group
                metadata: {name: payments}
                spec: {type: team, children: []}
                ---
                apiVersion: backstage.io/v1alpha1
                kind: User
                metadata: {name: ann}
                spec: {memberOf: []}
                """,
            )
        ]
    )
    assert pending() == set()
    assert Team.objects.get(name="payments").parent.name == "finance"
    assert list(Team.objects.get(name="finance").people.values_list("name", flat=True)) == ["ann"]


def test_service_page_shows_what_is_not_in_the_catalog_yet(client, user, write):
    catalog_import(paths=[write("c.yaml", CHECKOUT)])
    client.force_login(user)
    checkout = Component.objects.get(name="checkout")
    response = client.get(checkout.get_absolute_url())
    assert response.status_code == 200
    assert "owner <code>group:default/payments</code> — not in the catalog yet" in (
        response.content.decode()
    )


def test_unowned_facet_lists_components_without_an_owning_team(client, user, payments):
    Component.objects.create(name="orphaned-one")
    Component.objects.create(name="owned", owner=payments)
    client.force_login(user)
    response = client.get(reverse("catalog:component_list"), {"owner": "-"})
    names = [c.name for c in response.context["page"].object_list]
    assert names == ["orphaned-one"]
    unowned = response.context["facets"].options["owner"][0]
    assert (unowned.value, unowned.label, unowned.count, unowned.selected) == (
        "-",
        "Unowned",
        1,
        True,
    )


def test_only_platform_admins_and_sres_change_production_settings_of_unowned(
    make_user, sre, owner, environments
):
    from catalog.models import ComponentEnvironment

    component = Component.objects.create(name="stray")
    prod = ComponentEnvironment.objects.create(
        component=component, environment=environments["prod"]
    )
    admin = make_user("pat")
    admin.groups.add(Group.objects.get_or_create(name="platform-admin")[0])
    perm = "deployments.change_tuningvalue"
    assert sre.has_perm(perm, prod) and admin.has_perm(perm, prod)
    assert not owner.has_perm(perm, prod)  # a member of some team: not this one's
    component.owner = owner.team_memberships.get().team
    component.save()
    prod = ComponentEnvironment.objects.get(pk=prod.pk)
    assert owner.has_perm(perm, prod) and not make_user("pat2").has_perm(perm, prod)
    assert not admin.has_perm(perm, prod)  # owned now: the owning team decides
