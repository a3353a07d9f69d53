# ruff: noqa: E501 -- the messages are buf's texts, kept whole on one line so they can be grepped.
"""The breaking-change rules: one function per buf rule id, same semantics and messages.

Each check receives the previous (against) and current Index and yields Findings. Pairing follows
buf: files by path, messages/enums/services by fully-qualified name, fields by number, enum values
by number, methods by name. Locations point into the current file; a deleted element is reported
on its parent (or on no line at all when its parent is the file).
"""

from collections.abc import Iterator
from dataclasses import dataclass

from google.protobuf import descriptor_pb2

from .model import ENUM_RANGE_MAX, FDP, Enum, Index, Location

WIRE_GROUPS = {
    "int32": 1, "int64": 1, "uint32": 1, "uint64": 1, "bool": 1,
    "sint32": 2, "sint64": 2, "string": 3, "bytes": 4, "fixed32": 5, "sfixed32": 5,
    "fixed64": 6, "sfixed64": 6, "double": 7, "float": 8, "group": 9, "message": 10, "enum": 11,
}  # fmt: skip
WIRE_JSON_GROUPS = {
    "int32": 1, "uint32": 1, "int64": 2, "uint64": 2, "fixed32": 3, "sfixed32": 3,
    "fixed64": 4, "sfixed64": 4, "bool": 5, "sint32": 6, "sint64": 7, "string": 8, "bytes": 9,
    "double": 10, "float": 11, "group": 12, "message": 13, "enum": 14,
}  # fmt: skip
CARDINALITY_WIRE = {
    "optional with explicit presence": 1, "optional with implicit presence": 1,
    "required": 2, "repeated": 3, "map": 3,
}  # fmt: skip
CARDINALITY_WIRE_JSON = {**CARDINALITY_WIRE, "map": 4}
WIRE_RULES_URL = "See https://developers.google.com/protocol-buffers/docs/proto3#updating for wire compatibility rules."


@dataclass(frozen=True)
class Finding:
    rule: str
    file: str
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    message: str

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "file": self.file,
            "start_line": self.start_line,
            "start_col": self.start_col,
            "end_line": self.end_line,
            "end_col": self.end_col,
            "message": self.message,
        }

    def sort_key(self):
        # buf's order: path, start line, start column, rule, message, end line, end column.
        return (
            self.file,
            self.start_line,
            self.start_col,
            self.rule,
            self.message,
            self.end_line,
            self.end_col,
        )

    def __str__(self) -> str:
        return f"{self.file}:{max(self.start_line, 1)}:{max(self.start_col, 1)}:{self.message}"


def finding(rule: str, path: str, location: Location | None, message: str) -> Finding:
    if location is None:
        return Finding(rule, path, 0, 0, 0, 0, message)
    return Finding(
        rule,
        path,
        location.start_line,
        location.start_col,
        location.end_line,
        location.end_col,
        message,
    )


def q(value) -> str:
    """Go's %q for the strings buf quotes."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def first(*locations):
    return next((loc for loc in locations if loc is not None), None)


# ---- pairing helpers -------------------------------------------------------------------------


def file_pairs(prev: Index, cur: Index):
    for path, previous in prev.files.items():
        if path in cur.files:
            yield previous, cur.files[path]


def message_pairs(prev: Index, cur: Index):
    for name, previous in prev.messages_by_full_name.items():
        if name in cur.messages_by_full_name:
            yield previous, cur.messages_by_full_name[name]


def enum_pairs(prev: Index, cur: Index):
    for name, previous in prev.enums_by_full_name.items():
        if name in cur.enums_by_full_name:
            yield previous, cur.enums_by_full_name[name]


def service_pairs(prev: Index, cur: Index):
    for name, previous in prev.services_by_full_name.items():
        if name in cur.services_by_full_name:
            yield previous, cur.services_by_full_name[name]


def method_pairs(prev: Index, cur: Index):
    for previous_service, service in service_pairs(prev, cur):
        methods = {m.name: m for m in service.methods}
        for previous in previous_service.methods:
            if previous.name in methods:
                yield previous, methods[previous.name]


def field_pairs(prev: Index, cur: Index):
    for previous_message, message in message_pairs(prev, cur):
        numbers = {f.number: f for f in message.fields}
        for previous in previous_message.fields:
            if previous.number in numbers:
                yield previous, numbers[previous.number]
    current_ext = {(e.extendee, e.number): e for e in cur.extensions}
    for previous in prev.extensions:
        if (previous.extendee, previous.number) in current_ext:
            yield previous, current_ext[(previous.extendee, previous.number)]


def deleted_parent_location(cur: Index, path: str, nested_name: str):
    """Where buf reports a deleted nested element: the closest surviving parent message."""
    parts = nested_name.split(".")
    messages = cur.file_messages[path]
    for i in range(len(parts) - 1, 0, -1):
        parent = messages.get(".".join(parts[:i]))
        if parent is not None:
            return parent.location
    return None


# ---- deletions -------------------------------------------------------------------------------


def file_no_delete(prev: Index, cur: Index) -> Iterator[Finding]:
    for path in prev.files:
        if path not in cur.files:
            yield finding(
                "FILE_NO_DELETE", path, None, f"Previously present file {q(path)} was deleted."
            )


def _nested_no_delete(rule, noun, prev, cur, attr) -> Iterator[Finding]:
    for path in prev.files:
        if path not in cur.files:
            continue
        current = getattr(cur, attr)[path]
        for nested_name in getattr(prev, attr)[path]:
            if nested_name not in current:
                location = deleted_parent_location(cur, path, nested_name)
                message = f"Previously present {noun} {q(nested_name)} was deleted from file."
                yield finding(rule, path, location, message)


def message_no_delete(prev, cur):
    return _nested_no_delete("MESSAGE_NO_DELETE", "message", prev, cur, "file_messages")


def enum_no_delete(prev, cur):
    return _nested_no_delete("ENUM_NO_DELETE", "enum", prev, cur, "file_enums")


def extension_no_delete(prev, cur):
    return _nested_no_delete("EXTENSION_NO_DELETE", "extension", prev, cur, "file_extensions")


def service_no_delete(prev, cur):
    return _nested_no_delete("SERVICE_NO_DELETE", "service", prev, cur, "file_services")


def _package_no_delete(rule, noun, prev: Index, cur: Index, attr) -> Iterator[Finding]:
    current_packages = cur.packages()
    for package, previous_files in prev.packages().items():
        if package not in current_packages:
            continue
        current_names = set()
        for file in current_packages[package]:
            current_names.update(getattr(cur, attr)[file.path])
        for previous_file in previous_files:
            for nested_name in getattr(prev, attr)[previous_file.path]:
                if nested_name in current_names:
                    continue
                path, location = "", None
                if previous_file.path in cur.files:
                    path = previous_file.path
                    location = deleted_parent_location(cur, path, nested_name)
                message = f"Previously present {noun} {q(nested_name)} was deleted from package {q(package)}."
                yield finding(rule, path, location, message)


def package_message_no_delete(prev, cur):
    return _package_no_delete("PACKAGE_MESSAGE_NO_DELETE", "message", prev, cur, "file_messages")


def package_enum_no_delete(prev, cur):
    return _package_no_delete("PACKAGE_ENUM_NO_DELETE", "enum", prev, cur, "file_enums")


def package_service_no_delete(prev, cur):
    return _package_no_delete("PACKAGE_SERVICE_NO_DELETE", "service", prev, cur, "file_services")


def package_extension_no_delete(prev, cur):
    return _package_no_delete(
        "PACKAGE_EXTENSION_NO_DELETE", "extension", prev, cur, "file_extensions"
    )


def package_no_delete(prev: Index, cur: Index) -> Iterator[Finding]:
    current_packages = cur.packages()
    for package, files in prev.packages().items():
        if package not in current_packages:
            path = sorted(f.path for f in files)[0]
            yield finding(
                "PACKAGE_NO_DELETE",
                path,
                None,
                f"Previously present package {q(package)} was deleted.",
            )


def _field_no_delete(rule, prev, cur, *, number_reserved=False, name_reserved=False):
    for previous_message, message in message_pairs(prev, cur):
        numbers = {f.number for f in message.fields}
        for previous in previous_message.fields:
            if previous.number in numbers:
                continue
            if number_reserved and any(
                a <= previous.number <= b for a, b in message.reserved_ranges()
            ):
                continue
            if name_reserved and previous.name in message.proto.reserved_name:
                continue
            suffix = ""
            if number_reserved:
                suffix = f' without reserving the number "{previous.number}"'
            if name_reserved:
                suffix = f" without reserving the name {q(previous.name)}"
            description = previous.description()
            description = description[0].lower() + description[1:]
            yield finding(
                rule,
                message.file.path,
                message.location,
                f"Previously present {description} was deleted{suffix}.",
            )


def field_no_delete(prev, cur):
    return _field_no_delete("FIELD_NO_DELETE", prev, cur)


def field_no_delete_unless_number_reserved(prev, cur):
    return _field_no_delete(
        "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", prev, cur, number_reserved=True
    )


def field_no_delete_unless_name_reserved(prev, cur):
    return _field_no_delete("FIELD_NO_DELETE_UNLESS_NAME_RESERVED", prev, cur, name_reserved=True)


def _values_by_number(enum: Enum) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    for value in enum.values:
        result.setdefault(value.number, []).append(value.name)
    return result


def _enum_value_no_delete(rule, prev, cur, *, number_reserved=False, name_reserved=False):
    for previous_enum, enum in enum_pairs(prev, cur):
        current = _values_by_number(enum)
        for number, names in _values_by_number(previous_enum).items():
            if number in current:
                continue
            if number_reserved and any(a <= number <= b for a, b in enum.reserved_ranges()):
                continue
            if name_reserved and all(n in enum.proto.reserved_name for n in names):
                continue
            suffix = ""
            if number_reserved:
                suffix = f' without reserving the number "{number}"'
            if name_reserved:
                plural = "s" if len(names) > 1 else ""
                suffix = f" without reserving the name{plural} " + ", ".join(
                    q(n) for n in sorted(names)
                )
            message = f'Previously present enum value "{number}" on enum {q(enum.name)} was deleted{suffix}.'
            yield finding(rule, previous_enum.file.path, enum.location, message)


def enum_value_no_delete(prev, cur):
    return _enum_value_no_delete("ENUM_VALUE_NO_DELETE", prev, cur)


def enum_value_no_delete_unless_number_reserved(prev, cur):
    return _enum_value_no_delete(
        "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED", prev, cur, number_reserved=True
    )


def enum_value_no_delete_unless_name_reserved(prev, cur):
    return _enum_value_no_delete(
        "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED", prev, cur, name_reserved=True
    )


def oneof_no_delete(prev, cur):
    for previous_message, message in message_pairs(prev, cur):
        current = {o.name for o in message.proto.oneof_decl}
        synthetic = {f.oneof_index for f in previous_message.proto.field if f.proto3_optional}
        for i, oneof in enumerate(previous_message.proto.oneof_decl):
            if oneof.name not in current and i not in synthetic:
                yield finding(
                    "ONEOF_NO_DELETE",
                    message.file.path,
                    message.location,
                    f"Previously present oneof {q(oneof.name)} on message {q(message.name)} was deleted.",
                )


def rpc_no_delete(prev, cur):
    for previous_service, service in service_pairs(prev, cur):
        current = {m.name for m in service.methods}
        for method in previous_service.methods:
            if method.name not in current:
                yield finding(
                    "RPC_NO_DELETE",
                    service.file.path,
                    service.location,
                    f"Previously present RPC {q(method.name)} on service {q(service.name)} was deleted.",
                )


# ---- reserved and extension ranges -------------------------------------------------------------


def _collapse(ranges):
    merged = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _missing(start, end, collapsed):
    missing, cursor = [], start
    for a, b in collapsed:
        if b < cursor:
            continue
        if a > end:
            break
        if a > cursor:
            missing.append((cursor, a - 1))
        cursor = b + 1
        if cursor > end:
            break
    if cursor <= end:
        missing.append((cursor, end))
    return missing


def _range_string(start, end, max_tag):
    if start == end:
        return f"[{start}]"
    if end == max_tag:
        return f"[{start},max]"
    return f"[{start},{end}]"


def _check_ranges(rule, kind, element, previous_ranges, ranges, element_kind, max_tag):
    collapsed = _collapse(ranges)
    for start, end in previous_ranges:
        missing = _missing(start, end, collapsed)
        if missing:
            removed = ", ".join(_range_string(a, b, max_tag) for a, b in missing)
            message = (
                f"Previously present {kind} range {q(_range_string(start, end, max_tag))} on "
                f"{element_kind} {q(element.name)} is missing values: {removed} were removed."
            )
            yield finding(rule, element.file.path, element.location, message)


def extension_message_no_delete(prev, cur):
    for previous, message in message_pairs(prev, cur):
        yield from _check_ranges(
            "EXTENSION_MESSAGE_NO_DELETE",
            "extension",
            message,
            previous.extension_ranges(),
            message.extension_ranges(),
            "message",
            message.range_max,
        )


def _reserved_names(rule, kind, previous, element):
    current = set(element.proto.reserved_name)
    for name in dict.fromkeys(previous.proto.reserved_name):
        if name not in current:
            yield finding(
                rule,
                element.file.path,
                element.location,
                f"Previously present reserved name {q(name)} on {kind} {q(element.name)} was deleted.",
            )


def reserved_message_no_delete(prev, cur):
    for previous, message in message_pairs(prev, cur):
        yield from _check_ranges(
            "RESERVED_MESSAGE_NO_DELETE",
            "reserved",
            message,
            previous.reserved_ranges(),
            message.reserved_ranges(),
            "message",
            message.range_max,
        )
        yield from _reserved_names("RESERVED_MESSAGE_NO_DELETE", "message", previous, message)


def reserved_enum_no_delete(prev, cur):
    for previous, enum in enum_pairs(prev, cur):
        yield from _check_ranges(
            "RESERVED_ENUM_NO_DELETE",
            "reserved",
            enum,
            previous.reserved_ranges(),
            enum.reserved_ranges(),
            "enum",
            ENUM_RANGE_MAX,
        )
        yield from _reserved_names("RESERVED_ENUM_NO_DELETE", "enum", previous, enum)


# ---- fields --------------------------------------------------------------------------------------


def _skip_map_entry(previous, field) -> bool:
    return (
        previous.parent is not None
        and field.parent is not None
        and previous.parent.is_map_entry
        and field.parent.is_map_entry
    )


def _cardinality_rule(rule, groups):
    def check(prev, cur):
        for previous, field in field_pairs(prev, cur):
            if _skip_map_entry(previous, field):
                continue
            before, after = previous.cardinality(), field.cardinality()
            changed = before != after if groups is None else groups[before] != groups[after]
            if changed:
                yield finding(
                    rule,
                    field.file.path,
                    field.location,
                    f"{field.description()} changed cardinality from {q(before)} to {q(after)}.",
                )

    return check


field_same_cardinality = _cardinality_rule("FIELD_SAME_CARDINALITY", None)
field_wire_compatible_cardinality = _cardinality_rule(
    "FIELD_WIRE_COMPATIBLE_CARDINALITY", CARDINALITY_WIRE
)
field_wire_json_compatible_cardinality = _cardinality_rule(
    "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY", CARDINALITY_WIRE_JSON
)


def _type_name_changed(rule, previous, field):
    return finding(
        rule,
        field.file.path,
        field.sub_location(6),
        f"{field.description()} changed type from {q(previous.type_name.lstrip('.'))} "
        f"to {q(field.type_name.lstrip('.'))}.",
    )


def _kind_changed(rule, previous, field, extra=""):
    named = ("message", "enum", "group")
    location = field.sub_location(6) if field.kind in named else field.sub_location(5)
    message = f"{field.description()} changed type from {q(previous.kind)} to {q(field.kind)}."
    return finding(rule, field.file.path, location, message + (f" {extra}" if extra else ""))


def field_same_type(prev, cur):
    for previous, field in field_pairs(prev, cur):
        if previous.kind != field.kind:
            yield _kind_changed("FIELD_SAME_TYPE", previous, field)
        elif field.kind in ("enum", "group", "message") and previous.type_name != field.type_name:
            yield _type_name_changed("FIELD_SAME_TYPE", previous, field)


def _enum_compatible(prev, cur, previous, field) -> bool:
    before = prev.enums_by_full_name.get(previous.type_name.lstrip("."))
    after = cur.enums_by_full_name.get(field.type_name.lstrip("."))
    if before is None or after is None or before.name != after.name:
        return False
    after_values = {(v.name, v.number) for v in after.values}
    return all((v.name, v.number) in after_values for v in before.values)


def _compatible_type_rule(rule, groups, extra):
    def check(prev, cur):
        for previous, field in field_pairs(prev, cur):
            if groups[previous.kind] != groups[field.kind]:
                note = extra
                if rule == "FIELD_WIRE_COMPATIBLE_TYPE":
                    if previous.kind == "string" and field.kind == "bytes":
                        continue
                    if previous.kind == "bytes" and field.kind == "string":
                        note += (
                            " Note that while string and bytes are compatible if the data is valid"
                            " UTF-8, there is no way to enforce that a bytes field is UTF-8, so these"
                            " fields may be incompatible."
                        )
                yield _kind_changed(rule, previous, field, note)
            elif previous.type_name != field.type_name:
                if field.kind == "enum" and _enum_compatible(prev, cur, previous, field):
                    continue
                if field.kind in ("enum", "group", "message"):
                    yield _type_name_changed(rule, previous, field)

    return check


field_wire_compatible_type = _compatible_type_rule(
    "FIELD_WIRE_COMPATIBLE_TYPE", WIRE_GROUPS, WIRE_RULES_URL
)
field_wire_json_compatible_type = _compatible_type_rule(
    "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
    WIRE_JSON_GROUPS,
    "See https://developers.google.com/protocol-buffers/docs/proto3#updating for wire compatibility"
    " rules and https://developers.google.com/protocol-buffers/docs/proto3#json for JSON"
    " compatibility rules.",
)


def field_same_name(prev, cur):
    for previous, field in field_pairs(prev, cur):
        before = previous.full_name if previous.extendee else previous.name
        after = field.full_name if field.extendee else field.name
        if before != after:
            yield finding(
                "FIELD_SAME_NAME",
                field.file.path,
                field.sub_location(1),
                f"{field.description(with_name=False)} changed name from {q(before)} to {q(after)}.",
            )


def field_same_json_name(prev, cur):
    for previous, field in field_pairs(prev, cur):
        if previous.extendee:
            continue
        if previous.proto.json_name != field.proto.json_name:
            location = first(field.sub_location(10), field.location)
            yield finding(
                "FIELD_SAME_JSON_NAME",
                field.file.path,
                location,
                f'{field.description()} changed option "json_name" from '
                f"{q(previous.proto.json_name)} to {q(field.proto.json_name)}.",
            )


JSTYPE_NAMES = {0: "JS_NORMAL", 1: "JS_STRING", 2: "JS_NUMBER"}
INT64_KINDS = {"int64", "sint64", "uint64", "fixed64", "sfixed64"}


def field_same_jstype(prev, cur):
    for previous, field in field_pairs(prev, cur):
        if previous.kind not in INT64_KINDS or field.kind not in INT64_KINDS:
            continue
        before, after = previous.proto.options.jstype, field.proto.options.jstype
        if before != after:
            location = first(field.sub_location(8, 6), field.location)
            yield finding(
                "FIELD_SAME_JSTYPE",
                field.file.path,
                location,
                f'{field.description()} changed option "jstype" from '
                f"{q(JSTYPE_NAMES[before])} to {q(JSTYPE_NAMES[after])}.",
            )


def field_same_oneof(prev, cur):
    for previous, field in field_pairs(prev, cur):
        if previous.extendee:
            continue
        before, after = previous.oneof_name(), field.oneof_name()
        if before is None and after is None:
            continue
        if before is not None and after is not None:
            if before != after:
                # buf's message reads `%sq` here; keep its text exactly.
                yield finding(
                    "FIELD_SAME_ONEOF",
                    field.file.path,
                    field.location,
                    f"{field.description()}q moved from oneof {q(before)} to oneof {q(after)}.",
                )
            continue
        moved = ("outside", "inside") if after is not None else ("inside", "outside")
        yield finding(
            "FIELD_SAME_ONEOF",
            field.file.path,
            field.location,
            f"{field.description()} moved from {moved[0]} to {moved[1]} a oneof.",
        )


def message_same_required_fields(prev, cur):
    required = FDP.LABEL_REQUIRED
    for previous, message in message_pairs(prev, cur):
        before = {f.number for f in previous.fields if f.proto.label == required}
        after = {f.number: f for f in message.fields if f.proto.label == required}
        note = (
            "Required fields must always be sent, so if one side does not know about the"
            " required field, this will result in a breakage."
        )
        for number in before - after.keys():
            yield finding(
                "MESSAGE_SAME_REQUIRED_FIELDS",
                message.file.path,
                message.location,
                f'Message {q(previous.name)} had required field "{number}" deleted. {note}',
            )
        for number, field in after.items():
            if number not in before:
                yield finding(
                    "MESSAGE_SAME_REQUIRED_FIELDS",
                    field.file.path,
                    field.location,
                    f'Message {q(message.name)} had required field "{number}" added. {note}',
                )


def message_no_remove_standard_descriptor_accessor(prev, cur):
    for previous, message in message_pairs(prev, cur):
        before = previous.proto.options.no_standard_descriptor_accessor
        after = message.proto.options.no_standard_descriptor_accessor
        if not before and after:
            yield finding(
                "MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR",
                message.file.path,
                message.sub_location(7, 2),
                'Message option "no_standard_descriptor_accessor" changed from "false" to "true".',
            )


# ---- enums ---------------------------------------------------------------------------------------


def enum_same_type(prev, cur):
    for previous, enum in enum_pairs(prev, cur):
        if previous.is_closed() != enum.is_closed():
            before, after = ("open", "closed") if enum.is_closed() else ("closed", "open")
            yield finding(
                "ENUM_SAME_TYPE",
                enum.file.path,
                enum.location,
                f"Enum {q(enum.name)} changed from {before} to {after}.",
            )


def enum_value_same_name(prev, cur):
    for previous_enum, enum in enum_pairs(prev, cur):
        previous_by_number = _values_by_number(previous_enum)
        for number, values in _group_values(enum).items():
            if number not in previous_by_number:
                continue
            before = sorted(previous_by_number[number])
            after = sorted(v.name for v in values)
            if set(after) <= set(before):
                continue
            plural = "s" if len(before) > 1 and len(after) > 1 else ""
            before_text = ", ".join(q(n) for n in before)
            after_text = ", ".join(q(n) for n in after)
            for value in values:
                yield finding(
                    "ENUM_VALUE_SAME_NAME",
                    value.file.path,
                    value.sub_location(2),
                    f'Enum value "{number}" on enum {q(enum.name)} changed name{plural} '
                    f"from {before_text} to {after_text}.",
                )


def _group_values(enum: Enum) -> dict:
    result: dict = {}
    for value in enum.values:
        result.setdefault(value.number, []).append(value)
    return result


# ---- services ------------------------------------------------------------------------------------


def _streaming_rule(rule, attr, side):
    def check(prev, cur):
        for previous, method in method_pairs(prev, cur):
            before, after = getattr(previous.proto, attr), getattr(method.proto, attr)
            if before != after:
                was, now = ("unary", "streaming") if after else ("streaming", "unary")
                yield finding(
                    rule,
                    method.file.path,
                    method.location,
                    f"RPC {q(method.name)} on service {q(method.service.name)} changed "
                    f"from {side} {was} to {side} {now}.",
                )

    return check


rpc_same_client_streaming = _streaming_rule(
    "RPC_SAME_CLIENT_STREAMING", "client_streaming", "client"
)
rpc_same_server_streaming = _streaming_rule(
    "RPC_SAME_SERVER_STREAMING", "server_streaming", "server"
)


def _rpc_type_rule(rule, attr, noun, path_suffix):
    def check(prev, cur):
        for previous, method in method_pairs(prev, cur):
            before = getattr(previous.proto, attr).lstrip(".")
            after = getattr(method.proto, attr).lstrip(".")
            if before != after:
                yield finding(
                    rule,
                    method.file.path,
                    method.sub_location(path_suffix),
                    f"RPC {q(method.name)} on service {q(method.service.name)} changed "
                    f"{noun} type from {q(before)} to {q(after)}.",
                )

    return check


rpc_same_request_type = _rpc_type_rule("RPC_SAME_REQUEST_TYPE", "input_type", "request", 2)
rpc_same_response_type = _rpc_type_rule("RPC_SAME_RESPONSE_TYPE", "output_type", "response", 3)

IDEMPOTENCY = descriptor_pb2.MethodOptions.IdempotencyLevel


def rpc_same_idempotency_level(prev, cur):
    for previous, method in method_pairs(prev, cur):
        before = previous.proto.options.idempotency_level
        after = method.proto.options.idempotency_level
        if before != after:
            yield finding(
                "RPC_SAME_IDEMPOTENCY_LEVEL",
                method.file.path,
                method.sub_location(4, 34),
                f"RPC {q(method.name)} on service {q(method.service.name)} changed option "
                f'"idempotency_level" from {q(IDEMPOTENCY.Name(before))} to {q(IDEMPOTENCY.Name(after))}.',
            )


# ---- file-level values -----------------------------------------------------------------------------


def _file_value_rule(rule, label, getter, path):
    def check(prev, cur):
        for previous, file in file_pairs(prev, cur):
            before, after = getter(previous), getter(file)
            if before != after:
                yield finding(
                    rule,
                    file.path,
                    file.location(path),
                    f"File {label} changed from {q(before)} to {q(after)}.",
                )

    return check


def _option(name, kind=str):
    def get(file):
        value = getattr(file.proto.options, name)
        if kind is bool:
            return "true" if value else "false"
        return value

    return get


def _optimize_for(file):
    return descriptor_pb2.FileOptions.OptimizeMode.Name(file.proto.options.optimize_for)


FILE_OPTION_RULES = {
    # rule id: (option name, FileOptions field number, value kind)
    "FILE_SAME_CC_ENABLE_ARENAS": ("cc_enable_arenas", 31, bool),
    "FILE_SAME_CC_GENERIC_SERVICES": ("cc_generic_services", 16, bool),
    "FILE_SAME_CSHARP_NAMESPACE": ("csharp_namespace", 37, str),
    "FILE_SAME_GO_PACKAGE": ("go_package", 11, str),
    "FILE_SAME_JAVA_GENERIC_SERVICES": ("java_generic_services", 17, bool),
    "FILE_SAME_JAVA_MULTIPLE_FILES": ("java_multiple_files", 10, bool),
    "FILE_SAME_JAVA_OUTER_CLASSNAME": ("java_outer_classname", 8, str),
    "FILE_SAME_JAVA_PACKAGE": ("java_package", 1, str),
    "FILE_SAME_OBJC_CLASS_PREFIX": ("objc_class_prefix", 36, str),
    "FILE_SAME_PHP_CLASS_PREFIX": ("php_class_prefix", 40, str),
    "FILE_SAME_PHP_METADATA_NAMESPACE": ("php_metadata_namespace", 44, str),
    "FILE_SAME_PHP_NAMESPACE": ("php_namespace", 41, str),
    "FILE_SAME_PY_GENERIC_SERVICES": ("py_generic_services", 18, bool),
    "FILE_SAME_RUBY_PACKAGE": ("ruby_package", 45, str),
    "FILE_SAME_SWIFT_PREFIX": ("swift_prefix", 39, str),
}

FILE_VALUE_CHECKS = {
    rule: _file_value_rule(rule, f'option "{name}"', _option(name, kind), (8, number))
    for rule, (name, number, kind) in FILE_OPTION_RULES.items()
}
FILE_VALUE_CHECKS["FILE_SAME_OPTIMIZE_FOR"] = _file_value_rule(
    "FILE_SAME_OPTIMIZE_FOR", 'option "optimize_for"', _optimize_for, (8, 9)
)
FILE_VALUE_CHECKS["FILE_SAME_SYNTAX"] = _file_value_rule(
    "FILE_SAME_SYNTAX", "syntax", lambda f: f.syntax, (12,)
)
FILE_VALUE_CHECKS["FILE_SAME_PACKAGE"] = _file_value_rule(
    "FILE_SAME_PACKAGE", "package", lambda f: f.package, (2,)
)
