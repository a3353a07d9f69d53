"""Catalog import -> API versions (the real Backstage examples)."""

import pytest
from django.urls import reverse

from apidocs.models import ApiDefinition, ApiVersion
from catalog.backstage import Source, catalog_import
from catalog.models import Component
from portal.audit import audit_verify
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

BROKEN_API = """apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-x}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: broken
spec:
  type: grpc
  lifecycle: production
  owner: team-x
  definition: |
    syntax = "proto3";
    package broken.v1;
    message A { NoSuchType b = 1; }
"""


@pytest.fixture
def all_yaml(shared_dir):
    """all.yaml and acme-corp.yaml (the groups that own the example APIs)."""
    root = shared_dir / "fixtures" / "backstage-examples"
    return [str(root / "all.yaml"), str(root / "acme-corp.yaml")]


def test_import_stores_grpc_and_openapi_versions(all_yaml, client, user):
    report = catalog_import(paths=all_yaml)

    assert report.errors == [] and report.warnings == []
    hello = ApiDefinition.objects.get(component__name="hello-world", component__entity_kind="API")
    version = hello.versions.get()
    assert (hello.kind, version.source, list(version.files)) == (
        "protobuf", "catalog", ["hello-world.proto"],
    )  # fmt: skip
    assert version.descriptor_set
    petstore = ApiDefinition.objects.get(component__name="petstore")
    assert petstore.kind == "openapi"
    assert "openapi" in next(iter(petstore.versions.get().files.values()))
    assert "hello-world/hello-world v1" in report.api_versions

    client.force_login(user)
    page = client.get(reverse("apidocs:version_detail", args=[hello.pk, 1]))
    assert page.status_code == 200
    assert "Greeter" in page.content.decode() and "SayHello" in page.content.decode()


def test_reimport_stores_nothing_new(all_yaml):
    catalog_import(paths=all_yaml)
    count = ApiVersion.objects.count()
    assert count >= 2

    report = catalog_import(paths=all_yaml)

    assert report.errors == [] and report.api_versions == []
    assert ApiVersion.objects.count() == count


def test_dry_run_stores_no_version(all_yaml):
    report = catalog_import(paths=all_yaml, dry_run=True)

    assert report.errors == [] and ApiVersion.objects.count() == 0


def test_changed_definition_gets_a_new_version(all_yaml):
    catalog_import(paths=all_yaml)
    api = Component.objects.get(name="hello-world", entity_kind="API")
    text = api.definition.replace("string name = 1;", "string name = 1;\n  int32 times = 2;")
    source = Source(
        name="hello.yaml",
        text="apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: hello-world}\n"
        "spec:\n  type: grpc\n  lifecycle: deprecated\n  owner: team-c\n  definition: |\n"
        + "".join(f"    {line}\n" for line in text.splitlines()),
    )

    report = catalog_import(sources=[source])

    assert report.errors == [] and report.warnings == []
    assert report.api_versions == ["hello-world/hello-world v2"]


def test_api_that_does_not_compile_keeps_the_catalog_import():
    report = catalog_import(sources=[Source(name="broken.yaml", text=BROKEN_API)])

    assert report.errors == [] and report.ok
    assert Component.objects.filter(name="broken", entity_kind="API").exists()
    assert ApiVersion.objects.count() == 0
    (warning,) = report.warnings
    assert warning.file == "broken.yaml"
    assert warning.line == 17  # the line of `message A { NoSuchType ... }` in the YAML file
    assert "NoSuchType" in warning.message and "default/broken" in warning.message


def _openapi_apis(count: int, version: str = "1.0.0") -> Source:
    """`count` API entities with OpenAPI documents (the shape of the shared bench catalog)."""
    entities = ["apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-o}\n"
                "spec: {type: team, children: []}\n"]  # fmt: skip
    for n in range(count):
        entities.append(
            "apiVersion: backstage.io/v1alpha1\nkind: API\n"
            f"metadata: {{name: api-{n}}}\nspec:\n  type: openapi\n  lifecycle: production\n"
            "  owner: team-o\n  definition: |\n    openapi: 3.0.0\n"
            f"    info: {{title: api-{n}, version: {version}}}\n    paths: {{}}\n"
        )
    return Source(name="apis.yaml", text="---\n".join(entities))


def test_openapi_versions_are_stored_together_with_one_audit_event(
    django_assert_max_num_queries,
):
    with django_assert_max_num_queries(41):  # 3 APIs or 3,000: the same 41 queries
        report = catalog_import(sources=[_openapi_apis(30)], actor_label="bench")

    assert report.errors == [] and report.warnings == []
    assert sorted(report.api_versions)[:2] == ["api-0/api-0 v1", "api-1/api-1 v1"]
    assert ApiVersion.objects.filter(number=1, source="catalog").count() == 30
    event = AuditEvent.objects.get(action="apidocs.versions_import")
    assert event.actor_label == "bench" and len(event.after["versions"]) == 30
    assert "api-7/api-7" in event.after["definitions_created"]
    assert audit_verify() == []


def test_openapi_reimport_stores_only_the_changed_documents():
    catalog_import(sources=[_openapi_apis(3)])
    assert catalog_import(sources=[_openapi_apis(3)]).api_versions == []

    changed = _openapi_apis(3, version="1.1.0")
    report = catalog_import(sources=[changed])

    assert sorted(report.api_versions) == ["api-0/api-0 v2", "api-1/api-1 v2", "api-2/api-2 v2"]
    assert ApiDefinition.objects.count() == 3
    assert (
        "1.1.0" in ApiVersion.objects.get(number=2, definition__name="api-0").files["openapi.yaml"]
    )
