import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Component, Dependency, Namespace, System, Team
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = reverse("admin:catalog_backstage_import")
TEAM = b"""apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments}
spec: {type: team, children: []}
"""
COMPONENTS = b"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: checkout}
spec: {type: service, lifecycle: production, owner: payments, dependsOn: [component:cart]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: cart}
spec: {type: service, lifecycle: production, owner: payments}
"""


def upload(*files):
    return {"files": [SimpleUploadedFile(name, content) for name, content in files]}


@pytest.fixture
def platform_admin(make_user):
    person = make_user("platform", is_staff=True)
    person.groups.add(Group.objects.get_or_create(name="platform-admin")[0])
    return person


@pytest.fixture
def staff_outsider(make_user):
    return make_user("staffer", is_staff=True)


def test_platform_admin_uploads_several_files_and_sees_the_report(client, platform_admin):
    client.force_login(platform_admin)
    assert client.get(URL).status_code == 200

    response = client.post(URL, upload(("team.yaml", TEAM), ("components.yaml", COMPONENTS)))

    assert response.status_code == 200
    assert response.context["report"].created == 3
    assert b'data-count="created">3<' in response.content
    assert Dependency.objects.get().target.name == "cart"
    event = AuditEvent.objects.get(action="catalog.import")
    assert (event.actor, event.outcome, event.after["created"]) == (platform_admin, "done", 3)


def test_superuser_status_alone_may_not_upload(client, make_user):
    """Superuser status grants nothing in the product (docs/access.md, "The rules"): importing
    is a platform admin's action."""
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    response = client.post(URL, upload(("team.yaml", TEAM)))
    assert response.status_code == 403 and Team.objects.count() == 0


def test_staff_outside_platform_team_is_refused_and_nothing_changes(client, staff_outsider):
    client.force_login(staff_outsider)
    assert client.get(URL).status_code == 403

    response = client.post(URL, upload(("team.yaml", TEAM)))

    assert response.status_code == 403
    assert Team.objects.count() == 0
    refusals = AuditEvent.objects.filter(action="catalog.import", outcome="denied")
    assert refusals.count() == 2 and refusals.first().actor == staff_outsider


def test_anonymous_is_sent_to_admin_login(client, db):
    response = client.post(URL, upload(("team.yaml", TEAM)))
    assert response.status_code == 302 and Team.objects.count() == 0


def test_upload_with_relative_location_targets_is_a_clear_error(client, platform_admin):
    client.force_login(platform_admin)
    location = b"""apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: all}
spec:
  targets: [./team.yaml]
"""
    response = client.post(
        URL, {**upload(("all.yaml", location), ("team.yaml", TEAM)), "strict": "on"}
    )

    report = response.context["report"]
    assert [(e.file, e.line) for e in report.errors] == [("all.yaml", 5)]
    assert b"cannot be resolved from an upload" in response.content
    assert b"nothing was written" in response.content
    assert Team.objects.count() == 0


def test_strict_upload_with_errors_writes_nothing(client, platform_admin):
    client.force_login(platform_admin)
    response = client.post(URL, {**upload(("components.yaml", COMPONENTS)), "strict": "on"})
    assert response.context["report"].errors
    assert b"unknown entity group:default/payments" in response.content
    assert Component.objects.count() == 0


def test_tolerant_upload_imports_components_and_lists_the_missing_owner(client, platform_admin):
    client.force_login(platform_admin)
    response = client.post(URL, upload(("components.yaml", COMPONENTS)))  # owner team missing
    report = response.context["report"]
    assert report.errors == [] and Component.objects.count() == report.created > 0
    assert {r["target"] for r in report.unresolved} == {"group:default/payments"}
    assert b"group:default/payments \xe2\x80\x94 not in the catalog yet" in response.content


def make_catalog(n: int) -> None:
    team = Team.objects.create(name=f"team-{n}")
    namespace = Namespace.objects.create(name=f"ns-{n}", owner=team)
    system = System.objects.create(name=f"sys-{n}", namespace=namespace, owner=team)
    parent = Component.objects.create(
        name=f"svc-{n}", owner=team, system=system, namespace=namespace
    )
    child = Component.objects.create(name=f"svc-{n}-worker", owner=team, parent=parent)
    Dependency.objects.create(source=child, target=parent)


@pytest.mark.parametrize(
    "model", ["component", "team", "person", "namespace", "system", "dependency", "apirelation",
              "environment", "componentenvironment"],
)  # fmt: skip
def test_admin_lists_do_not_grow_queries_with_rows(
    client, make_user, django_assert_max_num_queries, model
):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    url = reverse(f"admin:catalog_{model}_changelist")
    make_catalog(1)
    with django_assert_max_num_queries(20) as few:
        assert client.get(url).status_code == 200
    for n in range(2, 12):
        make_catalog(n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_component_change_page_shows_inlines(client, make_user):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    make_catalog(1)
    parent = Component.objects.get(name="svc-1")
    response = client.get(reverse("admin:catalog_component_change", args=[parent.pk]))
    assert response.status_code == 200
    assert b"svc-1-worker" in response.content  # subcomponent inline
    assert (
        b"Import Backstage descriptors"
        in client.get(reverse("admin:catalog_component_changelist")).content
    )
