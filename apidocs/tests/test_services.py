import pytest

from apidocs.models import ApiDefinition, ApiSymbol, ApiVersion
from apidocs.services import (
    BreakingChangeRejected,
    CompileFailed,
    api_version_create,
    api_version_from_backstage,
)
from catalog.models import ApiRelation, Component, Dependency, Team
from portal.errors import PermissionDenied
from portal.models import AuditEvent

from .conftest import HELLO_V1

HELLO_V2_BREAKING = HELLO_V1.replace("  int32 times = 2;\n", "")


def test_owner_publishes_a_version_with_descriptors_symbols_and_audit(owner, definition):
    version = api_version_create(
        actor=owner, api=definition, files={"hello/v1/hello.proto": HELLO_V1}, comment="first"
    )
    assert version.number == 1 and version.author == owner
    assert version.descriptor_set and version.files == {"hello/v1/hello.proto": HELLO_V1}
    names = set(ApiSymbol.objects.filter(version=version).values_list("full_name", flat=True))
    assert {"hello.v1.Greeter", "hello.v1.Greeter.SayHello", "hello.v1.HelloRequest.name"} <= names
    event = AuditEvent.objects.get(action="apidocs.version_create")
    assert event.actor == owner and event.target_id == str(version.pk)


def test_sre_may_publish(sre, definition):
    assert api_version_create(actor=sre, api=definition, files={"a.proto": HELLO_V1}).number == 1


def test_outsider_is_refused_and_nothing_is_stored(outsider, definition):
    with pytest.raises(PermissionDenied):
        api_version_create(actor=outsider, api=definition, files={"a.proto": HELLO_V1})
    assert not ApiVersion.objects.exists()
    assert AuditEvent.objects.get().outcome == AuditEvent.Outcome.DENIED


def test_a_machine_label_does_not_excuse_a_person(outsider, definition):
    """`actor_label` marks a machine caller only when there is no person: a person passed with
    a label is still checked."""
    with pytest.raises(PermissionDenied):
        api_version_create(
            actor=outsider, api=definition, files={"a.proto": HELLO_V1}, actor_label="command:x"
        )
    assert not ApiVersion.objects.exists()


def test_compile_error_stores_nothing(owner, definition):
    with pytest.raises(CompileFailed) as info:
        api_version_create(actor=owner, api=definition, files={"a.proto": "syntax = nope;"})
    assert info.value.errors[0].file == "a.proto" and info.value.errors[0].line == 1
    assert not ApiVersion.objects.exists()


def test_breaking_upload_lists_consumers_and_needs_a_reason(owner, definition, component):
    api_version_create(actor=owner, api=definition, files={"a.proto": HELLO_V1})
    api_entity = Component.objects.create(name="payments-grpc", entity_kind="API")
    ApiRelation.objects.create(component=component, api=api_entity, relation="provides")
    other = Team.objects.create(name="checkout")
    consumer = Component.objects.create(name="checkout-web", owner=other)
    ApiRelation.objects.create(component=consumer, api=api_entity, relation="consumes")
    dependent = Component.objects.create(name="ledger", owner=other)
    Dependency.objects.create(source=dependent, target=component)

    with pytest.raises(BreakingChangeRejected) as info:
        api_version_create(actor=owner, api=definition, files={"a.proto": HELLO_V2_BREAKING})
    # A production component without a buf.yaml: the default policy is WIRE_JSON.
    assert [f.rule for f in info.value.findings] == [
        "FIELD_NO_DELETE_UNLESS_NAME_RESERVED",
        "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
    ]
    assert {(c.component.name, c.component.owner.name) for c in info.value.consumers} == {
        ("checkout-web", "checkout"),
        ("ledger", "checkout"),
    }
    assert definition.versions.count() == 1

    version = api_version_create(
        actor=owner, api=definition, files={"a.proto": HELLO_V2_BREAKING},
        accept_breaking_reason="field was never read",
    )  # fmt: skip
    assert version.number == 2 and version.breaking_against == 1
    assert version.breaking_policy == "WIRE_JSON"
    assert version.breaking_findings[0] == {
        "path": "a.proto", "start_line": 10, "start_column": 1, "end_line": 12, "end_column": 2,
        "rule": "FIELD_NO_DELETE_UNLESS_NAME_RESERVED", "categories": ["CSR", "WIRE_JSON"],
        "message": 'Previously present field "2" with name "times" on message "HelloRequest" '
        'was deleted without reserving the name "times".',
    }  # fmt: skip
    event = AuditEvent.objects.get(action="apidocs.version_create_breaking")
    assert event.reason == "field was never read"


def test_versions_are_numbered_and_old_ones_kept(owner, definition):
    api_version_create(actor=owner, api=definition, files={"a.proto": HELLO_V1})
    added = HELLO_V1.replace("int32 times = 2;", "int32 times = 2;\n  bool loud = 3;")
    api_version_create(actor=owner, api=definition, files={"a.proto": added})
    assert list(definition.versions.values_list("number", flat=True)) == [2, 1]
    assert definition.versions.get(number=1).files["a.proto"] == HELLO_V1


def test_backstage_grpc_definition_becomes_a_version_once(db, shared_dir):
    import yaml

    path = shared_dir / "fixtures" / "backstage-examples" / "apis" / "hello-world-api.yaml"
    entity = yaml.safe_load(path.read_text())
    api = Component.objects.create(
        name=entity["metadata"]["name"], entity_kind="API", spec_type=entity["spec"]["type"],
        definition=entity["spec"]["definition"],
    )  # fmt: skip
    version = api_version_from_backstage(api_component=api)
    assert version.definition.kind == ApiDefinition.Kind.PROTOBUF
    assert version.symbols.filter(kind="service").exists()
    assert version.author_label == "catalog-import"
    assert api_version_from_backstage(api_component=api) is None  # unchanged: nothing new


def test_backstage_openapi_definition_is_stored(db):
    api = Component.objects.create(
        name="pets", entity_kind="API", spec_type="openapi",
        definition="openapi: 3.0.0\ninfo: {title: Pets, version: '1'}\npaths: {}\n",
    )  # fmt: skip
    version = api_version_from_backstage(api_component=api)
    assert version.definition.kind == "openapi" and version.descriptor_set is None
