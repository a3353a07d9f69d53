"""Documentation model built from a FileDescriptorSet (never from .proto text).

`build_docs` returns plain dataclasses the templates walk: packages -> files -> services,
messages (nested), enums; every type has an anchor equal to its fully-qualified name so that
field and method types cross-link. `symbols` lists the names written to the search index.
"""

from dataclasses import dataclass, field

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

FDP = descriptor_pb2.FieldDescriptorProto
SCALAR_NAMES = {
    value: name.removeprefix("TYPE_").lower()
    for name, value in FDP.Type.items()
    if value not in (FDP.TYPE_MESSAGE, FDP.TYPE_ENUM, FDP.TYPE_GROUP)
}
HTTP_VERBS = ("get", "put", "post", "delete", "patch")


@dataclass
class TypeRef:
    name: str
    anchor: str = ""  # empty when the type is outside the rendered files


@dataclass
class FieldDoc:
    name: str
    number: int
    label: str
    type: TypeRef
    json_name: str
    comment: str = ""
    deprecated: bool = False
    oneof: str = ""
    map_key: str = ""
    map_value: TypeRef | None = None


@dataclass
class EnumDoc:
    full_name: str
    name: str
    comment: str = ""
    deprecated: bool = False
    values: list = field(default_factory=list)  # (name, number, comment, deprecated)


@dataclass
class MessageDoc:
    full_name: str
    name: str
    comment: str = ""
    deprecated: bool = False
    fields: list = field(default_factory=list)
    oneofs: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    enums: list = field(default_factory=list)


@dataclass
class MethodDoc:
    name: str
    full_name: str
    request: TypeRef
    response: TypeRef
    client_streaming: bool
    server_streaming: bool
    comment: str = ""
    deprecated: bool = False
    http: list = field(default_factory=list)  # (verb, path, body)

    @property
    def streaming_kind(self) -> str:
        if self.client_streaming and self.server_streaming:
            return "bidirectional streaming"
        if self.client_streaming:
            return "client streaming"
        if self.server_streaming:
            return "server streaming"
        return "unary"


@dataclass
class ServiceDoc:
    full_name: str
    name: str
    comment: str = ""
    deprecated: bool = False
    methods: list = field(default_factory=list)


@dataclass
class FileDoc:
    path: str
    package: str
    syntax: str
    comment: str = ""
    services: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    enums: list = field(default_factory=list)


@dataclass
class Docs:
    packages: dict  # package -> [FileDoc]
    symbols: list  # (full_name, name, kind)


class _Comments:
    def __init__(self, proto):
        self.by_path = {}
        for loc in proto.source_code_info.location:
            text = "\n".join(
                part.strip("\n")
                for part in (loc.leading_comments, loc.trailing_comments)
                if part.strip()
            )
            if text:
                self.by_path[tuple(loc.path)] = _dedent(text)

    def get(self, path) -> str:
        return self.by_path.get(tuple(path), "")


def _dedent(text: str) -> str:
    lines = text.splitlines()
    indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return "\n".join(x[indent:] for x in lines).strip()


def build_docs(fds: descriptor_pb2.FileDescriptorSet, files: set[str] | None = None) -> Docs:
    """Docs for `files` (default: all files of the set); types anywhere in the set resolve."""
    known, map_entries = {}, {}
    for proto in fds.file:
        _collect_types(proto.package, proto.message_type, proto.enum_type, known, map_entries)
    rendered = {p.name for p in fds.file if files is None or p.name in files}
    builder = _Builder(known, map_entries, rendered)
    for proto in fds.file:
        if proto.name in rendered:
            _collect_local(proto.package, proto.message_type, proto.enum_type, builder.local_types)
    packages: dict[str, list[FileDoc]] = {}
    for proto in fds.file:
        if proto.name in rendered:
            packages.setdefault(proto.package, []).append(builder.file(proto))
    return Docs(packages=dict(sorted(packages.items())), symbols=builder.symbols)


def _collect_types(prefix, messages, enums, known, map_entries):
    for message in messages:
        name = f"{prefix}.{message.name}" if prefix else message.name
        known[name] = "message"
        if message.options.map_entry:
            map_entries[name] = message
        _collect_types(name, message.nested_type, message.enum_type, known, map_entries)
    for enum in enums:
        known[f"{prefix}.{enum.name}" if prefix else enum.name] = "enum"


class _Builder:
    def __init__(self, known, map_entries, rendered_files):
        self.known = known
        self.map_entries = map_entries
        self.rendered_files = rendered_files
        self.local_types: set[str] = set()
        self.symbols: list[tuple[str, str, str]] = []

    def ref(self, type_name: str) -> TypeRef:
        name = type_name.lstrip(".")
        return TypeRef(name=name, anchor=name if name in self.local_types else "")

    def file(self, proto) -> FileDoc:
        comments = _Comments(proto)
        prefix = proto.package
        if prefix and (prefix, prefix, "package") not in self.symbols:
            self.symbols.append((prefix, prefix.rsplit(".", 1)[-1], "package"))
        doc = FileDoc(
            path=proto.name,
            package=proto.package,
            syntax=proto.syntax or "proto2",
            comment=comments.get([12]) or comments.get([2]),
        )
        for i, service in enumerate(proto.service):
            doc.services.append(self.service(prefix, service, comments, (6, i)))
        for i, message in enumerate(proto.message_type):
            doc.messages.append(self.message(prefix, message, comments, (4, i)))
        for i, enum in enumerate(proto.enum_type):
            doc.enums.append(self.enum(prefix, enum, comments, (5, i)))
        return doc

    def _name(self, prefix, name):
        return f"{prefix}.{name}" if prefix else name

    def service(self, prefix, proto, comments, path) -> ServiceDoc:
        full = self._name(prefix, proto.name)
        self.symbols.append((full, proto.name, "service"))
        doc = ServiceDoc(full, proto.name, comments.get(path), proto.options.deprecated)
        for j, method in enumerate(proto.method):
            method_full = f"{full}.{method.name}"
            self.symbols.append((method_full, method.name, "method"))
            doc.methods.append(
                MethodDoc(
                    name=method.name,
                    full_name=method_full,
                    request=self.ref(method.input_type),
                    response=self.ref(method.output_type),
                    client_streaming=method.client_streaming,
                    server_streaming=method.server_streaming,
                    comment=comments.get(path + (2, j)),
                    deprecated=method.options.deprecated,
                    http=_http_rules(method.options),
                )
            )
        return doc

    def message(self, prefix, proto, comments, path) -> MessageDoc:
        full = self._name(prefix, proto.name)
        self.symbols.append((full, proto.name, "message"))
        doc = MessageDoc(full, proto.name, comments.get(path), proto.options.deprecated)
        real_oneofs = {
            f.oneof_index
            for f in proto.field
            if f.HasField("oneof_index") and not f.proto3_optional
        }
        doc.oneofs = [o.name for i, o in enumerate(proto.oneof_decl) if i in real_oneofs]
        for i, fld in enumerate(proto.field):
            self.symbols.append((f"{full}.{fld.name}", fld.name, "field"))
            doc.fields.append(self.field(proto, fld, comments.get(path + (2, i)), real_oneofs))
        for i, nested in enumerate(proto.nested_type):
            if not nested.options.map_entry:
                doc.messages.append(self.message(full, nested, comments, path + (3, i)))
        for i, enum in enumerate(proto.enum_type):
            doc.enums.append(self.enum(full, enum, comments, path + (4, i)))
        return doc

    def field(self, message, proto, comment, real_oneofs) -> FieldDoc:
        entry = self.map_entries.get(proto.type_name.lstrip("."))
        if entry is not None and proto.label == FDP.LABEL_REPEATED:
            key, value = entry.field[0], entry.field[1]
            label, type_ref = "map", TypeRef(f"map<{self.type_of(key).name}, …>")
            map_key, map_value = self.type_of(key).name, self.type_of(value)
        else:
            label = _label(proto)
            type_ref, map_key, map_value = self.type_of(proto), "", None
        oneof = ""
        if proto.HasField("oneof_index") and proto.oneof_index in real_oneofs:
            oneof = message.oneof_decl[proto.oneof_index].name
        return FieldDoc(
            name=proto.name,
            number=proto.number,
            label=label,
            type=type_ref,
            json_name=proto.json_name,
            comment=comment,
            deprecated=proto.options.deprecated,
            oneof=oneof,
            map_key=map_key,
            map_value=map_value,
        )

    def type_of(self, proto) -> TypeRef:
        if proto.type in (FDP.TYPE_MESSAGE, FDP.TYPE_ENUM, FDP.TYPE_GROUP):
            return self.ref(proto.type_name)
        return TypeRef(SCALAR_NAMES[proto.type])

    def enum(self, prefix, proto, comments, path) -> EnumDoc:
        full = self._name(prefix, proto.name)
        self.symbols.append((full, proto.name, "enum"))
        doc = EnumDoc(full, proto.name, comments.get(path), proto.options.deprecated)
        for k, value in enumerate(proto.value):
            self.symbols.append((f"{full}.{value.name}", value.name, "enum value"))
            doc.values.append(
                (value.name, value.number, comments.get(path + (2, k)), value.options.deprecated)
            )
        return doc


def _collect_local(prefix, messages, enums, into):
    for message in messages:
        name = f"{prefix}.{message.name}" if prefix else message.name
        into.add(name)
        _collect_local(name, message.nested_type, message.enum_type, into)
    for enum in enums:
        into.add(f"{prefix}.{enum.name}" if prefix else enum.name)


def _label(proto) -> str:
    if proto.label == FDP.LABEL_REPEATED:
        return "repeated"
    if proto.label == FDP.LABEL_REQUIRED:
        return "required"
    if proto.proto3_optional:
        return "optional"
    return ""


def _http_rules(options) -> list[tuple[str, str, str]]:
    if not options.HasExtension(annotations_pb2.http):
        return []
    rules = []
    for rule in [options.Extensions[annotations_pb2.http]]:
        rules.extend(_one_http_rule(rule))
        for extra in rule.additional_bindings:
            rules.extend(_one_http_rule(extra))
    return rules


def _one_http_rule(rule) -> list[tuple[str, str, str]]:
    pattern = rule.WhichOneof("pattern")
    if pattern is None:
        return []
    if pattern == "custom":
        return [(rule.custom.kind.upper(), rule.custom.path, rule.body)]
    return [(pattern.upper(), getattr(rule, pattern), rule.body)]
