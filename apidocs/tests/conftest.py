import pytest

from apidocs.models import ApiDefinition
from portal.tests.factories import ComponentFactory

HELLO_V1 = """syntax = "proto3";
package hello.v1;

// Greets people.
service Greeter {
  // Says hello.
  rpc SayHello (HelloRequest) returns (HelloReply);
}

message HelloRequest {
  string name = 1;
  int32 times = 2;
}

message HelloReply { string message = 1; }
"""


# owner, outsider and sre are the root conftest's personas; `team` is its payments team.


@pytest.fixture
def team(payments):
    return payments


@pytest.fixture
def component(team):
    return ComponentFactory(name="payments-api", owner=team)


@pytest.fixture
def definition(component):
    return ApiDefinition.objects.create(component=component, name="protos")


@pytest.fixture
def protos_dir(shared_dir):
    return shared_dir / "fixtures" / "protos"


@pytest.fixture
def history_dir(shared_dir):
    return shared_dir / "fixtures" / "proto-history"


# --- try-it ------------------------------------------------------------------------------------

PETS_OPENAPI = """
openapi: 3.0.3
info: {title: Pets, version: "1.0"}
paths:
  /v1/pets/{petId}:
    get:
      operationId: getPet
      summary: One pet
      parameters:
        - {name: petId, in: path, required: true, schema: {type: string, example: "42"}}
        - {name: verbose, in: query, schema: {type: boolean}}
      responses: {"200": {description: the pet}}
  /v1/pets:
    post:
      operationId: createPet
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Pet"}
      responses: {"201": {description: created}}
  /v1/redirect:
    get:
      operationId: redirect
      responses: {"302": {description: elsewhere}}
  /v1/big:
    get:
      operationId: big
      responses: {"200": {description: a lot}}
components:
  schemas:
    Pet:
      type: object
      properties:
        name: {type: string, example: Rex}
        kind: {type: string, enum: [dog, cat]}
        born: {type: string, format: date}
        tags: {type: array, items: {type: string}}
"""


@pytest.fixture(scope="session")
def grpc_modules(shared_dir, tmp_path_factory):
    from .tryit_servers import generate_modules

    return generate_modules(shared_dir / "fixtures" / "protos", tmp_path_factory.mktemp("pb"))


@pytest.fixture(scope="session")
def grpc_server(grpc_modules):
    """(port, recorder) of a real gRPC server with Greeter, RouteGuide and KeyValueStore."""
    from .tryit_servers import GrpcRecorder, start_grpc_server

    recorder = GrpcRecorder()
    server, port = start_grpc_server(grpc_modules, recorder)
    yield port, recorder
    server.stop(0)


@pytest.fixture
def grpc_calls_seen(grpc_server):
    recorder = grpc_server[1]
    recorder.calls.clear()
    return recorder.calls


@pytest.fixture
def http_servers():
    """(pets server, recorder, other server, other recorder): `other` is a redirect target."""
    from .tryit_servers import HttpRecorder, pets_app, start_http_server

    other_recorder, recorder = HttpRecorder(), HttpRecorder()
    other = start_http_server(pets_app(other_recorder))
    pets = start_http_server(pets_app(recorder, other_base=f"http://127.0.0.1:{other.server_port}"))
    yield pets, recorder, other, other_recorder
    pets.shutdown()
    other.shutdown()


@pytest.fixture
def tryit_envs(environments):
    """The root conftest's (staging, prod), try-it enabled on staging for everyone."""
    from apidocs.models import TryItPolicy

    staging, prod = environments["staging"], environments["prod"]
    TryItPolicy.objects.create(environment=staging, enabled=True, allow_viewers=True)
    return staging, prod


@pytest.fixture
def grpc_version(owner, definition, protos_dir, grpc_server, tryit_envs):
    """The example protos as a version of `definition`, served on loopback in staging and prod."""
    from apidocs.protos import read_proto_dir
    from apidocs.services import api_version_create
    from catalog.models import ComponentEnvironment

    from .tryit_servers import SHARED_FILES

    files = {p: t for p, t in read_proto_dir(protos_dir).items() if p in SHARED_FILES}
    version = api_version_create(actor=owner, api=definition, files=files)
    for environment in tryit_envs:
        ComponentEnvironment.objects.create(
            component=definition.component, environment=environment,
            api_base_url=f"http://127.0.0.1:{grpc_server[0]}",
        )  # fmt: skip
    return version


@pytest.fixture
def http_version(owner, component, http_servers, tryit_envs):
    """An OpenAPI definition served by the pets server in staging (template base URL)."""
    from apidocs.services import api_definition_get_or_create, api_version_create

    staging, prod = tryit_envs
    port = http_servers[0].server_port
    staging.api_base_url = f"http://127.0.0.1:{port}"
    staging.save()
    prod.api_base_url = f"http://127.0.0.1:{port}"
    prod.save()
    api = api_definition_get_or_create(actor=owner, component=component, name="pets",
                                       kind="openapi")  # fmt: skip
    return api_version_create(actor=owner, api=api, files={"openapi.yaml": PETS_OPENAPI})
