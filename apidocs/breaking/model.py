"""A read-only view of a FileDescriptorSet shaped for breaking-change rules.

Names, nesting and source locations follow what `buf breaking` reports: nested names are
relative to the package ("Outer.Inner"), locations are SourceCodeInfo spans turned 1-based.
"""

from dataclasses import dataclass, field

from google.protobuf import descriptor_pb2

FDP = descriptor_pb2.FieldDescriptorProto

# FileDescriptorProto / DescriptorProto field numbers used in SourceCodeInfo paths.
FILE_MESSAGE, FILE_ENUM, FILE_SERVICE, FILE_EXTENSION = 4, 5, 6, 7
MSG_FIELD, MSG_NESTED, MSG_ENUM, MSG_EXTENSION, MSG_ONEOF = 2, 3, 4, 6, 8
MESSAGE_RANGE_MAX = 536_870_911
MESSAGE_SET_RANGE_MAX = 2_147_483_646
ENUM_RANGE_MAX = 2_147_483_647

KIND_NAMES = {
    FDP.TYPE_DOUBLE: "double",
    FDP.TYPE_FLOAT: "float",
    FDP.TYPE_INT64: "int64",
    FDP.TYPE_UINT64: "uint64",
    FDP.TYPE_INT32: "int32",
    FDP.TYPE_FIXED64: "fixed64",
    FDP.TYPE_FIXED32: "fixed32",
    FDP.TYPE_BOOL: "bool",
    FDP.TYPE_STRING: "string",
    FDP.TYPE_GROUP: "group",
    FDP.TYPE_MESSAGE: "message",
    FDP.TYPE_BYTES: "bytes",
    FDP.TYPE_UINT32: "uint32",
    FDP.TYPE_ENUM: "enum",
    FDP.TYPE_SFIXED32: "sfixed32",
    FDP.TYPE_SFIXED64: "sfixed64",
    FDP.TYPE_SINT32: "sint32",
    FDP.TYPE_SINT64: "sint64",
}


@dataclass(frozen=True)
class Location:
    start_line: int
    start_col: int
    end_line: int
    end_col: int


@dataclass(eq=False)
class File:
    path: str
    proto: descriptor_pb2.FileDescriptorProto
    spans: dict

    @property
    def package(self) -> str:
        return self.proto.package

    @property
    def syntax(self) -> str:
        return self.proto.syntax or "proto2"

    def location(self, path) -> Location | None:
        return self.spans.get(tuple(path))


@dataclass(eq=False)
class Element:
    file: File
    proto: object
    path: tuple
    nested_name: str

    @property
    def name(self) -> str:
        return self.proto.name

    @property
    def full_name(self) -> str:
        return f"{self.file.package}.{self.nested_name}" if self.file.package else self.nested_name

    @property
    def location(self) -> Location | None:
        return self.file.location(self.path)

    def sub_location(self, *suffix) -> Location | None:
        return self.file.location(self.path + suffix)


@dataclass(eq=False)
class Message(Element):
    fields: list = field(default_factory=list)
    oneofs: list = field(default_factory=list)

    @property
    def is_map_entry(self) -> bool:
        return self.proto.options.map_entry

    def reserved_ranges(self) -> list[tuple[int, int]]:
        return [(r.start, r.end - 1) for r in self.proto.reserved_range]  # end is exclusive

    def extension_ranges(self) -> list[tuple[int, int]]:
        return [(r.start, r.end - 1) for r in self.proto.extension_range]

    @property
    def range_max(self) -> int:
        if self.proto.options.message_set_wire_format:
            return MESSAGE_SET_RANGE_MAX
        return MESSAGE_RANGE_MAX


@dataclass(eq=False)
class Field(Element):
    parent: Message | None = None
    index_in_file: "Index | None" = None

    @property
    def number(self) -> int:
        return self.proto.number

    @property
    def extendee(self) -> str:
        return self.proto.extendee.lstrip(".")

    @property
    def kind(self) -> str:
        return KIND_NAMES[self.proto.type]

    @property
    def type_name(self) -> str:
        return self.proto.type_name

    def oneof_name(self) -> str | None:
        """The real (non-synthetic) oneof this field belongs to, if any."""
        if self.parent is None or not self.proto.HasField("oneof_index"):
            return None
        if self.proto.proto3_optional:
            return None
        return self.parent.proto.oneof_decl[self.proto.oneof_index].name

    def is_map(self) -> bool:
        if self.proto.label != FDP.LABEL_REPEATED or self.proto.type != FDP.TYPE_MESSAGE:
            return False
        target = self.index_in_file.messages_by_full_name.get(self.type_name.lstrip("."))
        return target is not None and target.is_map_entry

    def has_presence(self) -> bool:
        proto = self.proto
        if proto.label == FDP.LABEL_REPEATED:
            return False
        if proto.type in (FDP.TYPE_MESSAGE, FDP.TYPE_GROUP) or proto.HasField("oneof_index"):
            return True
        if self.extendee:
            return True
        syntax = self.file.syntax
        if syntax == "proto2":
            return True
        if syntax == "proto3":
            return False
        presence = (
            proto.options.features.field_presence or self.file.proto.options.features.field_presence
        )
        return presence != descriptor_pb2.FeatureSet.IMPLICIT

    def cardinality(self) -> str:
        if self.proto.label == FDP.LABEL_REPEATED:
            return "map" if self.is_map() else "repeated"
        if self.proto.label == FDP.LABEL_REQUIRED:
            return "required"
        features = self.proto.options.features
        if features.field_presence == descriptor_pb2.FeatureSet.LEGACY_REQUIRED:
            return "required"
        if self.has_presence():
            return "optional with explicit presence"
        return "optional with implicit presence"

    def description(self, with_name: bool = True) -> str:
        if self.extendee:
            kind, owner, name = "Extension", self.extendee, self.full_name
        else:
            kind, owner, name = "Field", self.parent.name, self.name
        suffix = f' with name "{name}"' if with_name else ""
        return f'{kind} "{self.number}"{suffix} on message "{owner}"'


@dataclass(eq=False)
class Enum(Element):
    values: list = field(default_factory=list)

    def is_closed(self) -> bool:
        if self.file.syntax == "proto2":
            return True
        if self.file.syntax == "proto3":
            return False
        enum_type = (
            self.proto.options.features.enum_type or self.file.proto.options.features.enum_type
        )
        return enum_type == descriptor_pb2.FeatureSet.CLOSED

    def reserved_ranges(self) -> list[tuple[int, int]]:
        return [(r.start, r.end) for r in self.proto.reserved_range]  # end is inclusive


@dataclass(eq=False)
class EnumValue(Element):
    enum: Enum | None = None

    @property
    def number(self) -> int:
        return self.proto.number


@dataclass(eq=False)
class Service(Element):
    methods: list = field(default_factory=list)


@dataclass(eq=False)
class Method(Element):
    service: Service | None = None


class Index:
    """Every element of the target files of a descriptor set, keyed the way buf pairs them."""

    def __init__(self, fds: descriptor_pb2.FileDescriptorSet, targets: set[str] | None = None):
        self.files: dict[str, File] = {}
        self.messages_by_full_name: dict[str, Message] = {}
        self.enums_by_full_name: dict[str, Enum] = {}
        self.services_by_full_name: dict[str, Service] = {}
        self.extensions: list[Field] = []
        self.file_messages: dict[str, dict[str, Message]] = {}
        self.file_enums: dict[str, dict[str, Enum]] = {}
        self.file_services: dict[str, dict[str, Service]] = {}
        self.file_extensions: dict[str, dict[str, Field]] = {}
        for proto in fds.file:
            if targets is not None and proto.name not in targets:
                continue
            self._add_file(proto)

    def _add_file(self, proto) -> None:
        spans = {}
        for loc in proto.source_code_info.location:
            span = list(loc.span)
            if len(span) == 3:
                span = [span[0], span[1], span[0], span[2]]
            if len(span) == 4:
                spans.setdefault(tuple(loc.path), Location(*(x + 1 for x in span)))
        file = File(path=proto.name, proto=proto, spans=spans)
        self.files[file.path] = file
        self.file_messages[file.path] = {}
        self.file_enums[file.path] = {}
        self.file_services[file.path] = {}
        self.file_extensions[file.path] = {}
        for i, message in enumerate(proto.message_type):
            self._add_message(file, message, (FILE_MESSAGE, i), "")
        for i, enum in enumerate(proto.enum_type):
            self._add_enum(file, enum, (FILE_ENUM, i), "")
        for i, ext in enumerate(proto.extension):
            self._add_extension(file, ext, (FILE_EXTENSION, i), "")
        for i, service_proto in enumerate(proto.service):
            service = Service(file, service_proto, (FILE_SERVICE, i), service_proto.name)
            for j, method_proto in enumerate(service_proto.method):
                nested = f"{service.nested_name}.{method_proto.name}"
                method = Method(file, method_proto, service.path + (2, j), nested, service=service)
                service.methods.append(method)
            self.file_services[file.path][service.nested_name] = service
            self.services_by_full_name[service.full_name] = service

    def _add_message(self, file, proto, path, prefix) -> None:
        nested = f"{prefix}{proto.name}"
        message = Message(file, proto, path, nested)
        self.file_messages[file.path][nested] = message
        self.messages_by_full_name[message.full_name] = message
        for i, field_proto in enumerate(proto.field):
            message.fields.append(
                Field(
                    file,
                    field_proto,
                    path + (MSG_FIELD, i),
                    f"{nested}.{field_proto.name}",
                    parent=message,
                    index_in_file=self,
                )
            )
        for i, child in enumerate(proto.nested_type):
            self._add_message(file, child, path + (MSG_NESTED, i), nested + ".")
        for i, enum in enumerate(proto.enum_type):
            self._add_enum(file, enum, path + (MSG_ENUM, i), nested + ".")
        for i, ext in enumerate(proto.extension):
            self._add_extension(file, ext, path + (MSG_EXTENSION, i), nested + ".")

    def _add_enum(self, file, proto, path, prefix) -> None:
        enum = Enum(file, proto, path, f"{prefix}{proto.name}")
        for i, value in enumerate(proto.value):
            enum.values.append(
                EnumValue(file, value, path + (2, i), f"{prefix}{value.name}", enum=enum)
            )
        self.file_enums[file.path][enum.nested_name] = enum
        self.enums_by_full_name[enum.full_name] = enum

    def _add_extension(self, file, proto, path, prefix) -> None:
        ext = Field(file, proto, path, f"{prefix}{proto.name}", index_in_file=self)
        self.file_extensions[file.path][ext.nested_name] = ext
        self.extensions.append(ext)

    def packages(self) -> dict[str, list[File]]:
        result: dict[str, list[File]] = {}
        for file in self.files.values():
            result.setdefault(file.package, []).append(file)
        return result
