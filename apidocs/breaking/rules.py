"""buf's breaking rules (buf.yaml v2): ids, categories, defaults, and use/except resolution."""

from . import checks as c

FILE, PACKAGE, WIRE_JSON, WIRE, CSR = "FILE", "PACKAGE", "WIRE_JSON", "WIRE", "CSR"
CATEGORIES = (FILE, PACKAGE, WIRE_JSON, WIRE, CSR)
DEFAULT_CATEGORY = FILE

# rule id -> (categories, check function or None when not implemented here), in buf's spec order.
RULES: dict[str, tuple[tuple[str, ...], object]] = {
    "ENUM_NO_DELETE": ((CSR, FILE), c.enum_no_delete),
    "EXTENSION_NO_DELETE": ((FILE,), c.extension_no_delete),
    "FILE_NO_DELETE": ((CSR, FILE), c.file_no_delete),
    "MESSAGE_NO_DELETE": ((CSR, FILE), c.message_no_delete),
    "SERVICE_NO_DELETE": ((FILE,), c.service_no_delete),
    "ENUM_SAME_TYPE": ((FILE, PACKAGE), c.enum_same_type),
    "ENUM_VALUE_NO_DELETE": ((CSR, FILE, PACKAGE), c.enum_value_no_delete),
    "EXTENSION_MESSAGE_NO_DELETE": ((CSR, FILE, PACKAGE), c.extension_message_no_delete),
    "FIELD_NO_DELETE": ((CSR, FILE, PACKAGE), c.field_no_delete),
    "FIELD_SAME_CARDINALITY": ((FILE, PACKAGE), c.field_same_cardinality),
    "FIELD_SAME_CPP_STRING_TYPE": ((FILE, PACKAGE), None),
    "FIELD_SAME_JAVA_UTF8_VALIDATION": ((FILE, PACKAGE), None),
    "FIELD_SAME_JSTYPE": ((FILE, PACKAGE), c.field_same_jstype),
    "FIELD_SAME_TYPE": ((CSR, FILE, PACKAGE), c.field_same_type),
    "FIELD_SAME_UTF8_VALIDATION": ((FILE, PACKAGE), None),
    **{rule: ((FILE, PACKAGE), c.FILE_VALUE_CHECKS[rule]) for rule in c.FILE_OPTION_RULES},
    "FILE_SAME_OPTIMIZE_FOR": ((FILE, PACKAGE), c.FILE_VALUE_CHECKS["FILE_SAME_OPTIMIZE_FOR"]),
    "FILE_SAME_SYNTAX": ((CSR, FILE, PACKAGE), c.FILE_VALUE_CHECKS["FILE_SAME_SYNTAX"]),
    "MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR": (
        (CSR, FILE, PACKAGE),
        c.message_no_remove_standard_descriptor_accessor,
    ),
    "ONEOF_NO_DELETE": ((CSR, FILE, PACKAGE), c.oneof_no_delete),
    "RPC_NO_DELETE": ((FILE, PACKAGE), c.rpc_no_delete),
    "ENUM_SAME_JSON_FORMAT": ((CSR, FILE, PACKAGE, WIRE_JSON), None),
    "ENUM_VALUE_SAME_NAME": ((CSR, FILE, PACKAGE, WIRE_JSON), c.enum_value_same_name),
    "FIELD_SAME_JSON_NAME": ((CSR, FILE, PACKAGE, WIRE_JSON), c.field_same_json_name),
    "FIELD_SAME_NAME": ((CSR, FILE, PACKAGE, WIRE_JSON), c.field_same_name),
    "MESSAGE_SAME_JSON_FORMAT": ((CSR, FILE, PACKAGE, WIRE_JSON), None),
    "FIELD_SAME_DEFAULT": ((CSR, FILE, PACKAGE, WIRE_JSON, WIRE), None),
    "FIELD_SAME_ONEOF": ((CSR, FILE, PACKAGE, WIRE_JSON, WIRE), c.field_same_oneof),
    "FILE_SAME_PACKAGE": (
        (CSR, FILE, PACKAGE, WIRE_JSON, WIRE),
        c.FILE_VALUE_CHECKS["FILE_SAME_PACKAGE"],
    ),
    "MESSAGE_SAME_REQUIRED_FIELDS": (
        (CSR, FILE, PACKAGE, WIRE_JSON, WIRE),
        c.message_same_required_fields,
    ),
    "RESERVED_ENUM_NO_DELETE": ((CSR, FILE, PACKAGE, WIRE_JSON, WIRE), c.reserved_enum_no_delete),
    "RESERVED_MESSAGE_NO_DELETE": (
        (CSR, FILE, PACKAGE, WIRE_JSON, WIRE),
        c.reserved_message_no_delete,
    ),
    "RPC_SAME_CLIENT_STREAMING": (
        (CSR, FILE, PACKAGE, WIRE_JSON, WIRE),
        c.rpc_same_client_streaming,
    ),
    "RPC_SAME_IDEMPOTENCY_LEVEL": (
        (CSR, FILE, PACKAGE, WIRE_JSON, WIRE),
        c.rpc_same_idempotency_level,
    ),
    "RPC_SAME_REQUEST_TYPE": ((CSR, FILE, PACKAGE, WIRE_JSON, WIRE), c.rpc_same_request_type),
    "RPC_SAME_RESPONSE_TYPE": ((CSR, FILE, PACKAGE, WIRE_JSON, WIRE), c.rpc_same_response_type),
    "RPC_SAME_SERVER_STREAMING": (
        (CSR, FILE, PACKAGE, WIRE_JSON, WIRE),
        c.rpc_same_server_streaming,
    ),
    "PACKAGE_ENUM_NO_DELETE": ((PACKAGE,), c.package_enum_no_delete),
    "PACKAGE_EXTENSION_NO_DELETE": ((PACKAGE,), c.package_extension_no_delete),
    "PACKAGE_MESSAGE_NO_DELETE": ((PACKAGE,), c.package_message_no_delete),
    "PACKAGE_NO_DELETE": ((PACKAGE,), c.package_no_delete),
    "PACKAGE_SERVICE_NO_DELETE": ((PACKAGE,), c.package_service_no_delete),
    "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED": (
        (CSR, WIRE_JSON),
        c.enum_value_no_delete_unless_name_reserved,
    ),
    "FIELD_NO_DELETE_UNLESS_NAME_RESERVED": (
        (CSR, WIRE_JSON),
        c.field_no_delete_unless_name_reserved,
    ),
    "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY": (
        (CSR, WIRE_JSON),
        c.field_wire_json_compatible_cardinality,
    ),
    "FIELD_WIRE_JSON_COMPATIBLE_TYPE": ((CSR, WIRE_JSON), c.field_wire_json_compatible_type),
    "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED": (
        (CSR, WIRE_JSON, WIRE),
        c.enum_value_no_delete_unless_number_reserved,
    ),
    "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED": (
        (CSR, WIRE_JSON, WIRE),
        c.field_no_delete_unless_number_reserved,
    ),
    "FIELD_WIRE_COMPATIBLE_CARDINALITY": ((WIRE,), c.field_wire_compatible_cardinality),
    "FIELD_WIRE_COMPATIBLE_TYPE": ((WIRE,), c.field_wire_compatible_type),
    "MESSAGE_SAME_MESSAGE_SET_WIRE_FORMAT": ((), None),
}

# Deprecated ids buf still accepts, resolved to their replacements.
DEPRECATED = {
    "FIELD_SAME_LABEL": ("FIELD_SAME_CARDINALITY",),
    "FIELD_SAME_CTYPE": ("FIELD_SAME_CPP_STRING_TYPE",),
    "FILE_SAME_JAVA_STRING_CHECK_UTF8": ("FIELD_SAME_JAVA_UTF8_VALIDATION",),
}

NOT_IMPLEMENTED = sorted(rule for rule, (_, check) in RULES.items() if check is None)


class UnknownRuleError(ValueError):
    pass


def _expand(ids) -> set[str]:
    result: set[str] = set()
    for raw in ids:
        value = raw.strip().upper()
        if not value:
            continue
        if value in CATEGORIES:
            result.update(rule for rule, (cats, _) in RULES.items() if value in cats)
        elif value in RULES:
            result.add(value)
        elif value in DEPRECATED:
            result.update(DEPRECATED[value])
        else:
            raise UnknownRuleError(f'"{raw.strip()}" is not a known breaking rule or category')
    return result


def resolve_rules(use=None, except_=None) -> list[str]:
    """The rule ids selected by buf.yaml-style `use` and `except` lists (ids or categories)."""
    selected = _expand(use) if use else _expand([DEFAULT_CATEGORY])
    selected -= _expand(except_ or [])
    return [rule for rule in RULES if rule in selected]
