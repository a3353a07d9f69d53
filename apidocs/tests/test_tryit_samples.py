"""Request samples generated from protobuf messages and OpenAPI schemas."""

import json

import yaml
from google.protobuf import json_format, message_factory

from apidocs.protos import compile_protos, read_proto_dir
from apidocs.samples import build_pool, openapi_sample, proto_sample

from .conftest import PETS_OPENAPI

KINDS = """syntax = "proto3";
package kinds.v1;
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

enum Color { COLOR_UNSPECIFIED = 0; COLOR_RED = 1; COLOR_BLUE = 2; }

message Inner { string label = 1; Color color = 2; }

message Tree { string name = 1; repeated Tree children = 2; Tree parent = 3; }

message Everything {
  string name = 1;
  int32 count = 2;
  int64 big = 3;
  uint64 ubig = 4;
  double ratio = 5;
  bool active = 6;
  bytes blob = 7;
  Color color = 8;
  Inner inner = 9;
  repeated string tags = 10;
  repeated Inner inners = 11;
  map<string, int32> scores = 12;
  map<int64, Inner> by_id = 13;
  oneof choice { string email = 14; int32 phone = 15; }
  optional string nickname = 16;
  google.protobuf.Timestamp at = 17;
  google.protobuf.Duration ttl = 18;
  google.protobuf.Struct attrs = 19;
  google.protobuf.Any extra = 20;
  google.protobuf.StringValue maybe_name = 21;
  google.protobuf.Int64Value maybe_big = 22;
  google.protobuf.BoolValue maybe_flag = 23;
  Tree tree = 24;
}
"""


def _pool():
    return build_pool(compile_protos({"kinds.proto": KINDS}))


def test_sample_covers_every_field_kind():
    sample = proto_sample(_pool().FindMessageTypeByName("kinds.v1.Everything"))
    assert sample["name"] == "name" and sample["count"] == 1 and sample["big"] == "1"
    assert sample["ubig"] == "1" and sample["ratio"] == 1.5 and sample["active"] is True
    assert sample["blob"] == "YmxvYg=="  # base64 of the field name
    assert sample["color"] == "COLOR_RED"  # first value that is not the zero default
    assert sample["inner"] == {"label": "label", "color": "COLOR_RED"}
    assert sample["tags"] == ["tags"] and sample["inners"] == [sample["inner"]]
    assert sample["scores"] == {"key": 1} and sample["byId"] == {"1": sample["inner"]}
    assert sample["email"] == "email" and "phone" not in sample  # first member of the oneof
    assert sample["nickname"] == "nickname"  # proto3 optional is not a real oneof
    assert sample["at"] == "2024-01-01T12:00:00Z" and sample["ttl"] == "1.5s"
    assert sample["attrs"] == {"key": "value"}
    assert sample["extra"]["@type"] == "type.googleapis.com/google.protobuf.StringValue"
    assert sample["maybeName"] == "example" and sample["maybeBig"] == "1"
    assert sample["maybeFlag"] is True


def test_recursive_messages_stop():
    sample = proto_sample(_pool().FindMessageTypeByName("kinds.v1.Tree"))
    assert sample == {"name": "name", "children": []}


def test_sample_parses_back_into_the_message():
    pool = _pool()
    descriptor = pool.FindMessageTypeByName("kinds.v1.Everything")
    message = json_format.ParseDict(
        proto_sample(descriptor), message_factory.GetMessageClass(descriptor)(),
        descriptor_pool=pool,
    )  # fmt: skip
    assert message.scores["key"] == 1 and message.by_id[1].color == 1
    assert message.extra.type_url.endswith("StringValue") and message.ttl.nanos == 500_000_000


def test_samples_of_every_shared_method_are_valid_requests(protos_dir):
    data = compile_protos(read_proto_dir(protos_dir))
    pool = build_pool(data)
    from google.protobuf import descriptor_pb2

    checked = 0
    for file in descriptor_pb2.FileDescriptorSet.FromString(data).file:
        for service in file.service:
            for method in service.method:
                descriptor = pool.FindMessageTypeByName(method.input_type.lstrip("."))
                cls = message_factory.GetMessageClass(descriptor)
                json_format.Parse(json.dumps(proto_sample(descriptor)), cls(), descriptor_pool=pool)
                checked += 1
    assert checked > 40


def test_openapi_sample_resolves_refs_enums_formats_and_arrays():
    document = yaml.safe_load(PETS_OPENAPI)
    pet = openapi_sample({"$ref": "#/components/schemas/Pet"}, document)
    assert pet == {"name": "Rex", "kind": "dog", "born": "2024-01-01", "tags": ["string"]}
    merged = openapi_sample(
        {"allOf": [{"$ref": "#/components/schemas/Pet"},
                   {"type": "object", "properties": {"age": {"type": "integer"}}}]},
        document,
    )  # fmt: skip
    assert merged["age"] == 1 and merged["name"] == "Rex"
    assert openapi_sample({"oneOf": [{"type": "number"}, {"type": "string"}]}, document) == 1.5
    loop = {"components": {"schemas": {"N": {"type": "object", "properties": {
        "next": {"$ref": "#/components/schemas/N"}}}}}}  # fmt: skip
    assert openapi_sample({"$ref": "#/components/schemas/N"}, loop) == {"next": None}
