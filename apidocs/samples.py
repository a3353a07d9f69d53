"""Request samples for the try-it editor, generated from schemas.

`proto_sample(descriptor)` is a JSON-ready dict for a protobuf message (proto3 JSON mapping, so
`json_format.ParseDict` accepts it); `openapi_sample(schema, document)` is a value for an OpenAPI
(or JSON) schema. Both are bounded in depth and never loop on recursive types.
"""

import base64
import functools

from google.protobuf import (
    any_pb2,
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    empty_pb2,
    field_mask_pb2,
    struct_pb2,
    timestamp_pb2,
    wrappers_pb2,
)
from google.protobuf.descriptor import FieldDescriptor

MAX_DEPTH = 6
FD = FieldDescriptor
_WRAPPERS = {
    "google.protobuf.StringValue": "example",
    "google.protobuf.BytesValue": base64.b64encode(b"example").decode(),
    "google.protobuf.BoolValue": True,
    "google.protobuf.Int32Value": 1,
    "google.protobuf.UInt32Value": 1,
    "google.protobuf.Int64Value": "1",
    "google.protobuf.UInt64Value": "1",
    "google.protobuf.FloatValue": 1.5,
    "google.protobuf.DoubleValue": 1.5,
}
WELL_KNOWN_SAMPLES = {
    **_WRAPPERS,
    "google.protobuf.Timestamp": "2024-01-01T12:00:00Z",
    "google.protobuf.Duration": "1.5s",
    "google.protobuf.Struct": {"key": "value"},
    "google.protobuf.Value": "value",
    "google.protobuf.ListValue": ["value"],
    "google.protobuf.Empty": {},
    "google.protobuf.FieldMask": "name",
    "google.protobuf.Any": {
        "@type": "type.googleapis.com/google.protobuf.StringValue",
        "value": "example",
    },
}
# Added to every pool so that Any samples and Any responses of these types always resolve.
_WELL_KNOWN_MODULES = (
    any_pb2, duration_pb2, empty_pb2, field_mask_pb2, struct_pb2, timestamp_pb2, wrappers_pb2,
)  # fmt: skip
_INT64 = {FD.TYPE_INT64, FD.TYPE_UINT64, FD.TYPE_SINT64, FD.TYPE_FIXED64, FD.TYPE_SFIXED64}
_INT32 = {FD.TYPE_INT32, FD.TYPE_UINT32, FD.TYPE_SINT32, FD.TYPE_FIXED32, FD.TYPE_SFIXED32}


def build_pool(descriptor_set: bytes) -> descriptor_pool.DescriptorPool:
    """A private pool with every file of a serialized FileDescriptorSet and the well-known types."""
    fds = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set)
    pool = descriptor_pool.DescriptorPool()
    names = {f.name for f in fds.file}
    for module in _WELL_KNOWN_MODULES:
        if module.DESCRIPTOR.name not in names:
            proto = descriptor_pb2.FileDescriptorProto()
            module.DESCRIPTOR.CopyToProto(proto)
            pool.Add(proto)
    for file_proto in fds.file:  # protoc writes imports before the files that use them
        pool.Add(file_proto)
    return pool


@functools.lru_cache(maxsize=32)
def cached_pool(version_pk: int, descriptor_set: bytes) -> descriptor_pool.DescriptorPool:
    """Versions are immutable, so their pools can be kept between requests."""
    return build_pool(descriptor_set)


def proto_sample(descriptor, *, _stack: tuple = ()) -> dict:
    """A sample for message `descriptor`: every field, the first member of each oneof."""
    if descriptor.full_name in WELL_KNOWN_SAMPLES:
        return WELL_KNOWN_SAMPLES[descriptor.full_name]
    stack = (*_stack, descriptor.full_name)
    sample = {}
    chosen_oneofs = set()
    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and not _is_synthetic(oneof):
            if oneof.name in chosen_oneofs:
                continue
            chosen_oneofs.add(oneof.name)
        value = _field_sample(field, stack)
        if value is not _SKIP:
            sample[field.json_name] = value
    return sample


_SKIP = object()


def _is_synthetic(oneof) -> bool:
    # proto3 `optional` fields live in a one-member synthetic oneof named "_<field>".
    return len(oneof.fields) == 1 and oneof.name == "_" + oneof.fields[0].name


def _field_sample(field, stack):
    if _is_map(field):
        key_field, value_field = field.message_type.fields_by_name["key"], None
        value_field = field.message_type.fields_by_name["value"]
        value = _single_sample(value_field, stack)
        if value is _SKIP:
            return {}
        return {str(_key_sample(key_field)): value}
    value = _single_sample(field, stack)
    if field.is_repeated:
        return [] if value is _SKIP else [value]
    return value


def _is_map(field) -> bool:
    return (
        field.is_repeated
        and field.type == FD.TYPE_MESSAGE
        and field.message_type.GetOptions().map_entry
    )


def _key_sample(field):
    if field.type == FD.TYPE_STRING:
        return "key"
    if field.type == FD.TYPE_BOOL:
        return "true"
    return 1


def _single_sample(field, stack):
    if field.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
        message = field.message_type
        if message.full_name in WELL_KNOWN_SAMPLES:
            return WELL_KNOWN_SAMPLES[message.full_name]
        if message.full_name in stack or len(stack) >= MAX_DEPTH:
            return _SKIP  # recursive type: leave it out rather than loop
        return proto_sample(message, _stack=stack)
    if field.type == FD.TYPE_ENUM:
        values = field.enum_type.values
        named = [v for v in values if v.number != 0] or list(values)
        return named[0].name
    return _scalar_sample(field)


def _scalar_sample(field):
    if field.type == FD.TYPE_STRING:
        return field.name
    if field.type == FD.TYPE_BYTES:
        return base64.b64encode(field.name.encode()).decode()
    if field.type == FD.TYPE_BOOL:
        return True
    if field.type in _INT64:
        return "1"
    if field.type in _INT32:
        return 1
    return 1.5  # float, double


def openapi_sample(schema, document: dict, *, _depth: int = 0, _seen: tuple = ()):
    """A value for an OpenAPI/JSON schema: example, default, first enum, or built from the type."""
    if not isinstance(schema, dict) or _depth > MAX_DEPTH:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in _seen:
            return None
        return openapi_sample(
            resolve_ref(ref, document), document, _depth=_depth + 1, _seen=(*_seen, ref)
        )
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("examples") and isinstance(schema["examples"], list):
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("oneOf", "anyOf"):
        if schema.get(combinator):
            return openapi_sample(schema[combinator][0], document, _depth=_depth + 1, _seen=_seen)
    if schema.get("allOf"):
        merged = {}
        for part in schema["allOf"]:
            value = openapi_sample(part, document, _depth=_depth + 1, _seen=_seen)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    return _typed_openapi_sample(schema, document, _depth, _seen)


def _typed_openapi_sample(schema, document, depth, seen):
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or (kind is None and "properties" in schema):
        return {
            name: openapi_sample(prop, document, _depth=depth + 1, _seen=seen)
            for name, prop in (schema.get("properties") or {}).items()
        }
    if kind == "array":
        item = openapi_sample(schema.get("items") or {}, document, _depth=depth + 1, _seen=seen)
        return [] if item is None else [item]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "string":
        return _STRING_FORMATS.get(schema.get("format", ""), "string")
    return None


_STRING_FORMATS = {
    "date-time": "2024-01-01T12:00:00Z",
    "date": "2024-01-01",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "email": "user@example.com",
    "uri": "https://example.com",
    "byte": base64.b64encode(b"example").decode(),
}


def resolve_ref(ref: str, document: dict):
    """A local JSON pointer ("#/components/schemas/Pet") in `document`, or {}."""
    if not ref.startswith("#/"):
        return {}
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return {}
        node = node[part]
    return node
