"""One small before/after pair per buf breaking rule (buf 1.75, buf.yaml v2 ids), written for
Switchyard's differential suite: each case's buf.yaml uses only its rule, so buf must report it.

A case is (before files, after files); the file texts below are ours, not buf's test data.
"""

P3 = 'syntax = "proto3";\npackage a.v1;\n'
P2 = 'syntax = "proto2";\npackage a.v1;\n'
ED = 'edition = "2023";\npackage a.v1;\n'
F = "a/v1/a.proto"
G = "a/v1/b.proto"
MSG = "message M {\n  string a = 1;\n}\n"
SVC = "message Req {}\nmessage Res {}\n"


def one(before: str, after: str, path: str = F) -> tuple[dict, dict]:
    return {path: before}, {path: after}


def file_option(option: str, value: str, other: str) -> tuple[dict, dict]:
    return one(f"{P3}option {option} = {value};\n{MSG}", f"{P3}option {option} = {other};\n{MSG}")


def rpc(before: str, after: str) -> tuple[dict, dict]:
    return one(
        f"{P3}{SVC}service S {{\n  {before}\n}}\n", f"{P3}{SVC}service S {{\n  {after}\n}}\n"
    )


ENUM = "enum E {\n  E_UNSPECIFIED = 0;\n  E_ONE = 1;\n}\n"
ENUM_LESS = "enum E {\n  E_UNSPECIFIED = 0;\n}\n"
FIELDS = "message M {\n  string a = 1;\n  int32 b = 2;\n}\n"
EXT = "message M {\n  extensions 100 to 200;\n}\n"

CASES: dict[str, tuple[dict, dict]] = {
    "EXTENSION_NO_DELETE": one(f"{P2}{EXT}extend M {{\n  optional int32 e = 100;\n}}\n", P2 + EXT),
    "SERVICE_NO_DELETE": one(f"{P3}{SVC}service S {{\n  rpc R(Req) returns (Res);\n}}\n", P3 + SVC),
    "ENUM_NO_DELETE": one(P3 + MSG + ENUM, P3 + MSG),
    "FILE_NO_DELETE": ({F: P3 + MSG, G: P3 + "message N {}\n"}, {F: P3 + MSG}),
    "MESSAGE_NO_DELETE": one(P3 + MSG + "message N {}\n", P3 + MSG),
    "ENUM_SAME_TYPE": one(
        ED + ENUM, ED + ENUM.replace("{\n", "{\n  option features.enum_type = CLOSED;\n", 1)
    ),
    "FIELD_SAME_CARDINALITY": one(P3 + MSG, P3 + MSG.replace("string a", "repeated string a")),
    "FIELD_SAME_CPP_STRING_TYPE": one(
        ED + 'import "google/protobuf/cpp_features.proto";\n' + MSG,
        ED
        + 'import "google/protobuf/cpp_features.proto";\n'
        + MSG.replace("= 1;", "= 1 [features.(pb.cpp).string_type = CORD];"),
    ),
    "FIELD_SAME_JAVA_UTF8_VALIDATION": one(
        P2 + "message M {\n  optional string a = 1;\n}\n",
        P2 + "option java_string_check_utf8 = true;\nmessage M {\n  optional string a = 1;\n}\n",
    ),
    "FIELD_SAME_JSTYPE": one(
        P3 + "message M {\n  int64 a = 1;\n}\n",
        P3 + "message M {\n  int64 a = 1 [jstype = JS_STRING];\n}\n",
    ),
    "FIELD_SAME_UTF8_VALIDATION": one(
        ED + MSG, ED + MSG.replace("= 1;", "= 1 [features.utf8_validation = NONE];")
    ),
    "FILE_SAME_CC_ENABLE_ARENAS": file_option("cc_enable_arenas", "true", "false"),
    "FILE_SAME_CC_GENERIC_SERVICES": file_option("cc_generic_services", "false", "true"),
    "FILE_SAME_CSHARP_NAMESPACE": file_option("csharp_namespace", '"A.V1"', '"B.V1"'),
    "FILE_SAME_GO_PACKAGE": file_option("go_package", '"example.com/a/v1"', '"example.com/b/v1"'),
    "FILE_SAME_JAVA_GENERIC_SERVICES": file_option("java_generic_services", "false", "true"),
    "FILE_SAME_JAVA_MULTIPLE_FILES": file_option("java_multiple_files", "false", "true"),
    "FILE_SAME_JAVA_OUTER_CLASSNAME": file_option("java_outer_classname", '"AProto"', '"BProto"'),
    "FILE_SAME_JAVA_PACKAGE": file_option("java_package", '"com.example.a"', '"com.example.b"'),
    "FILE_SAME_OBJC_CLASS_PREFIX": file_option("objc_class_prefix", '"AXX"', '"BXX"'),
    "FILE_SAME_OPTIMIZE_FOR": file_option("optimize_for", "SPEED", "LITE_RUNTIME"),
    "FILE_SAME_PHP_CLASS_PREFIX": file_option("php_class_prefix", '"A"', '"B"'),
    "FILE_SAME_PHP_METADATA_NAMESPACE": file_option(
        "php_metadata_namespace", '"A\\\\Meta"', '"B\\\\Meta"'
    ),
    "FILE_SAME_PHP_NAMESPACE": file_option("php_namespace", '"A\\\\V1"', '"B\\\\V1"'),
    "FILE_SAME_PY_GENERIC_SERVICES": file_option("py_generic_services", "false", "true"),
    "FILE_SAME_RUBY_PACKAGE": file_option("ruby_package", '"A::V1"', '"B::V1"'),
    "FILE_SAME_SWIFT_PREFIX": file_option("swift_prefix", '"A"', '"B"'),
    "RPC_NO_DELETE": rpc(
        "rpc R(Req) returns (Res);\n  rpc T(Req) returns (Res);", "rpc R(Req) returns (Res);"
    ),
    "ENUM_VALUE_NO_DELETE": one(P3 + ENUM, P3 + ENUM_LESS),
    "EXTENSION_MESSAGE_NO_DELETE": one(P2 + EXT, P2 + "message M {}\n"),
    "FIELD_NO_DELETE": one(P3 + FIELDS, P3 + MSG),
    "FIELD_SAME_TYPE": one(P3 + FIELDS, P3 + FIELDS.replace("int32 b", "string b")),
    "FILE_SAME_SYNTAX": one(P2 + MSG.replace("string a", "optional string a"), P3 + MSG),
    "MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR": one(
        P3 + MSG,
        P3 + MSG.replace("{\n", "{\n  option no_standard_descriptor_accessor = true;\n", 1),
    ),
    "ONEOF_NO_DELETE": one(P3 + "message M {\n  oneof o {\n    string a = 1;\n  }\n}\n", P3 + MSG),
    "ENUM_SAME_JSON_FORMAT": one(
        ED + ENUM,
        ED + ENUM.replace("{\n", "{\n  option features.json_format = LEGACY_BEST_EFFORT;\n", 1),
    ),
    "ENUM_VALUE_SAME_NAME": one(P3 + ENUM, P3 + ENUM.replace("E_ONE", "E_FIRST")),
    "FIELD_SAME_JSON_NAME": one(
        P3 + MSG.replace("= 1;", '= 1 [json_name = "x"];'),
        P3 + MSG.replace("= 1;", '= 1 [json_name = "y"];'),
    ),
    "FIELD_SAME_NAME": one(P3 + MSG, P3 + MSG.replace("string a", "string c")),
    "MESSAGE_SAME_JSON_FORMAT": one(
        ED + MSG,
        ED + MSG.replace("{\n", "{\n  option features.json_format = LEGACY_BEST_EFFORT;\n", 1),
    ),
    "FIELD_SAME_DEFAULT": one(
        P2 + "message M {\n  optional int32 a = 1 [default = 1];\n}\n",
        P2 + "message M {\n  optional int32 a = 1 [default = 2];\n}\n",
    ),
    "FIELD_SAME_ONEOF": one(P3 + MSG, P3 + "message M {\n  oneof o {\n    string a = 1;\n  }\n}\n"),
    "FILE_SAME_PACKAGE": one(P3 + MSG, P3.replace("a.v1", "a.v2") + MSG),
    "MESSAGE_SAME_REQUIRED_FIELDS": one(
        P2 + "message M {\n  optional string a = 1;\n}\n",
        P2 + "message M {\n  optional string a = 1;\n  required int32 b = 2;\n}\n",
    ),
    "RESERVED_ENUM_NO_DELETE": one(
        P3 + ENUM.replace("E_ONE = 1;", "E_ONE = 1;\n  reserved 5;"), P3 + ENUM
    ),
    "RESERVED_MESSAGE_NO_DELETE": one(
        P3 + MSG.replace("= 1;", '= 1;\n  reserved 5, 6;\n  reserved "old";'), P3 + MSG
    ),
    "RPC_SAME_CLIENT_STREAMING": rpc(
        "rpc R(Req) returns (Res);", "rpc R(stream Req) returns (Res);"
    ),
    "RPC_SAME_IDEMPOTENCY_LEVEL": rpc(
        "rpc R(Req) returns (Res);",
        "rpc R(Req) returns (Res) {\n    option idempotency_level = NO_SIDE_EFFECTS;\n  }",
    ),
    "RPC_SAME_REQUEST_TYPE": rpc("rpc R(Req) returns (Res);", "rpc R(Res) returns (Res);"),
    "RPC_SAME_RESPONSE_TYPE": rpc("rpc R(Req) returns (Res);", "rpc R(Req) returns (Req);"),
    "RPC_SAME_SERVER_STREAMING": rpc(
        "rpc R(Req) returns (Res);", "rpc R(Req) returns (stream Res);"
    ),
    "PACKAGE_ENUM_NO_DELETE": ({F: P3 + MSG, G: P3 + ENUM}, {F: P3 + MSG, G: P3}),
    "PACKAGE_EXTENSION_NO_DELETE": (
        {F: P2 + EXT, G: P2 + 'import "a/v1/a.proto";\nextend M {\n  optional int32 e = 100;\n}\n'},
        {F: P2 + EXT, G: P2 + 'import "a/v1/a.proto";\n'},
    ),
    "PACKAGE_MESSAGE_NO_DELETE": ({F: P3 + MSG, G: P3 + "message N {}\n"}, {F: P3 + MSG, G: P3}),
    "PACKAGE_NO_DELETE": (
        {F: P3 + MSG, "b/v1/b.proto": 'syntax = "proto3";\npackage b.v1;\n' + MSG},
        {F: P3 + MSG},
    ),
    "PACKAGE_SERVICE_NO_DELETE": (
        {
            F: P3 + SVC,
            G: P3 + 'import "a/v1/a.proto";\nservice S {\n  rpc R(Req) returns (Res);\n}\n',
        },
        {F: P3 + SVC, G: P3 + 'import "a/v1/a.proto";\n'},
    ),
    "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED": one(P3 + ENUM, P3 + ENUM_LESS),
    "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED": one(P3 + ENUM, P3 + ENUM_LESS),
    "FIELD_NO_DELETE_UNLESS_NAME_RESERVED": one(
        P3 + FIELDS, P3 + MSG.replace("= 1;", "= 1;\n  reserved 2;")
    ),
    "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED": one(
        P3 + FIELDS, P3 + MSG.replace("= 1;", '= 1;\n  reserved "b";')
    ),
    "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY": one(
        P3 + "message M {\n  map<string, string> a = 1;\n}\n",
        P3 + "message M {\n  repeated E a = 1;\n  message E {\n    string key = 1;\n"
        "    string value = 2;\n  }\n}\n",
    ),
    "FIELD_WIRE_JSON_COMPATIBLE_TYPE": one(P3 + FIELDS, P3 + FIELDS.replace("int32 b", "int64 b")),
    "FIELD_WIRE_COMPATIBLE_CARDINALITY": one(
        P3 + FIELDS, P3 + FIELDS.replace("int32 b", "repeated int32 b")
    ),
    "FIELD_WIRE_COMPATIBLE_TYPE": one(P3 + FIELDS, P3 + FIELDS.replace("int32 b", "string b")),
}

# buf.yaml v1 keeps v1's ids: the deprecated FIELD_SAME_CTYPE is checked through a v1 config.
V1_CASES: dict[str, tuple[dict, dict]] = {
    "FIELD_SAME_CTYPE": one(
        P2 + "message M {\n  optional string a = 1;\n}\n",
        P2 + "message M {\n  optional string a = 1 [ctype = CORD];\n}\n",
    ),
}


# Pairs for which buf 1.75 itself reports nothing (checked by hand and asserted by the suite, so
# that a buf upgrade that starts reporting them is noticed).
BUF_SILENT = {"PACKAGE_ENUM_NO_DELETE", "PACKAGE_EXTENSION_NO_DELETE"}
# A deprecated v1 id is reported under its replacement.
REPORTED_AS = {"FIELD_SAME_CTYPE": "FIELD_SAME_CPP_STRING_TYPE"}


def config(rule: str, version: str = "v2") -> str:
    return f"version: {version}\nbreaking:\n  use:\n    - {rule}\n"
