"""Try-it for OpenAPI definitions against a real HTTP server."""

import json

import pytest

from apidocs.tryit import TryItRequest, tryit_base_url, tryit_call
from apidocs.tryit_shapes import openapi_operations
from catalog.models import ComponentEnvironment, Environment
from portal.errors import PermissionDenied, ValidationFailed
from portal.models import AuditEvent


def call(actor, version, environment, operation, **extra):
    return tryit_call(
        actor=actor, version=version, environment=environment,
        request=TryItRequest(operation=operation, **extra),
    )  # fmt: skip


def test_operations_have_parameters_and_body_samples(http_version):
    operations = {op.anchor: op for op in openapi_operations(http_version)}
    get_pet = operations["getPet"]
    assert (get_pet.method, get_pet.path) == ("GET", "/v1/pets/{petId}")
    assert [(p.name, p.location, p.required, p.sample) for p in get_pet.params] == [
        ("petId", "path", True, "42"), ("verbose", "query", False, "True"),
    ]  # fmt: skip
    assert json.loads(operations["createPet"].body_sample)["kind"] == "dog"
    assert operations["createPet"].content_type == "application/json"


def test_get_with_path_and_query_parameters(pm, http_version, tryit_envs, http_servers):
    response = call(
        pm, http_version, tryit_envs[0], "getPet",
        params={"path:petId": "7/../../admin", "query:verbose": "yes", "header:X-Trace": "t1"},
        metadata="Authorization: Bearer topsecret",
    )  # fmt: skip
    assert response.status == "200 OK" and response.ok
    assert json.loads(response.body) == {"id": "7%2F..%2F..%2Fadmin", "name": "Rex",
                                         "verbose": "yes"}  # fmt: skip
    assert ("X-Request-Id", "pet-1") in response.headers
    method, path, query, headers, _ = http_servers[1].requests[0]
    assert path == "/v1/pets/7%2F..%2F..%2Fadmin"  # one segment: cannot climb the base URL
    assert headers["X-Trace"] == "t1" and headers["Authorization"] == "Bearer topsecret"
    event = AuditEvent.objects.get(action="apidocs.tryit_call")
    assert "topsecret" not in json.dumps(event.before)
    assert event.after["status"] == "200 OK"


def test_post_body_is_sent_with_content_type(pm, http_version, tryit_envs, http_servers):
    response = call(pm, http_version, tryit_envs[0], "createPet", body='{"name": "Tom"}')
    assert response.status.startswith("201") and json.loads(response.body) == {"name": "Tom"}
    assert http_servers[1].requests[0][3]["Content-Type"] == "application/json"


def test_redirect_is_shown_not_followed(pm, http_version, tryit_envs, http_servers):
    response = call(pm, http_version, tryit_envs[0], "redirect")
    assert response.status.startswith("302")
    assert http_servers[3].requests == []


def test_oversized_response_is_cut_and_flagged(pm, http_version, tryit_envs):
    response = call(pm, http_version, tryit_envs[0], "big")
    assert response.truncated == "cut at 1048576 bytes" and len(response.body) == 1024 * 1024


def test_missing_path_parameter_is_refused(pm, http_version, tryit_envs, http_servers):
    with pytest.raises(ValidationFailed, match="petId"):
        call(pm, http_version, tryit_envs[0], "getPet", params={"path:petId": ""})
    assert http_servers[1].requests == []


def test_production_refused_for_pm(pm, http_version, tryit_envs, http_servers):
    with pytest.raises(PermissionDenied):
        call(pm, http_version, tryit_envs[1], "getPet", params={"path:petId": "1"})
    assert http_servers[1].requests == []


def test_base_url_prefers_component_then_environment_template(definition):
    env = Environment.objects.create(name="qa", api_base_url="http://{component}.qa.svc.local")
    assert (
        tryit_base_url(definition=definition, environment=env) == "http://payments-api.qa.svc.local"
    )
    ComponentEnvironment.objects.create(
        component=definition.component, environment=env, api_base_url="http://10.1.1.1:8080"
    )
    assert tryit_base_url(definition=definition, environment=env) == "http://10.1.1.1:8080"
