# ruff: noqa: E501 -- expected messages are buf's texts, kept whole.
import pytest

from apidocs.breaking import UnknownRuleError, check_breaking, resolve_rules
from apidocs.protos import compile_protos, parse_descriptor_set, read_proto_dir


def run(before: str, after: str, *, use=None, except_=None, path="a.proto"):
    against = parse_descriptor_set(compile_protos({path: before}))
    current = parse_descriptor_set(compile_protos({path: after}))
    return check_breaking(
        against=against, current=current, against_files={path}, current_files={path},
        use=use, except_=except_,
    )  # fmt: skip


def only(findings, rule):
    return [f for f in findings if f.rule == rule]


P3 = 'syntax = "proto3";\npackage p;\n'


def test_field_deleted_is_reported_on_the_message_span():
    before = P3 + "message M {\n  string a = 1;\n  int32 b = 2;\n}\n"
    after = P3 + "message M {\n  string a = 1;\n}\n"
    [finding] = run(before, after)
    assert finding.as_dict() == {
        "rule": "FIELD_NO_DELETE",
        "file": "a.proto",
        "start_line": 3,
        "start_col": 1,
        "end_line": 5,
        "end_col": 2,
        "message": 'Previously present field "2" with name "b" on message "M" was deleted.',
    }
    assert (
        str(finding)
        == 'a.proto:3:1:Previously present field "2" with name "b" on message "M" was deleted.'
    )


def test_reserved_number_satisfies_wire_but_not_file_rule():
    before = P3 + "message M {\n  string a = 1;\n  int32 b = 2;\n}\n"
    after = P3 + "message M {\n  string a = 1;\n  reserved 2;\n}\n"
    assert [f.rule for f in run(before, after)] == ["FIELD_NO_DELETE"]
    assert run(before, after, use=["WIRE"]) == []
    [wire_json] = run(before, after, use=["WIRE_JSON"])
    assert wire_json.rule == "FIELD_NO_DELETE_UNLESS_NAME_RESERVED"
    assert wire_json.message.endswith('was deleted without reserving the name "b".')


def test_unreserved_deletion_under_wire_names_the_number():
    before = P3 + "message M {\n  int32 b = 2;\n}\n"
    after = P3 + "message M {\n}\n"
    [finding] = run(before, after, use=["WIRE"])
    assert finding.rule == "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED"
    assert finding.message.endswith('without reserving the number "2".')


def test_field_type_change_points_at_the_type():
    before = P3 + "message M {\n  string a = 1;\n}\n"
    after = P3 + "message M {\n  int64 a = 1;\n}\n"
    [finding] = run(before, after)
    assert finding.rule == "FIELD_SAME_TYPE"
    assert (finding.start_line, finding.start_col, finding.end_col) == (4, 3, 8)
    assert (
        finding.message
        == 'Field "1" with name "a" on message "M" changed type from "string" to "int64".'
    )


def test_message_type_change_names_both_types():
    before = P3 + "message A {}\nmessage B {}\nmessage M {\n  A x = 1;\n}\n"
    after = P3 + "message A {}\nmessage B {}\nmessage M {\n  B x = 1;\n}\n"
    [finding] = run(before, after)
    assert (
        finding.message
        == 'Field "1" with name "x" on message "M" changed type from "p.A" to "p.B".'
    )


def test_wire_compatible_type_allows_int32_to_int64_and_string_to_bytes():
    before = P3 + "message M {\n  int32 a = 1;\n  string s = 2;\n}\n"
    after = P3 + "message M {\n  int64 a = 1;\n  bytes s = 2;\n}\n"
    assert run(before, after, use=["WIRE"]) == []
    assert {f.rule for f in run(before, after)} == {"FIELD_SAME_TYPE"}


def test_cardinality_change():
    before = P3 + "message M {\n  string a = 1;\n}\n"
    after = P3 + "message M {\n  repeated string a = 1;\n}\n"
    findings = run(before, after)
    [finding] = only(findings, "FIELD_SAME_CARDINALITY")
    assert finding.message == (
        'Field "1" with name "a" on message "M" changed cardinality from '
        '"optional with implicit presence" to "repeated".'
    )


def test_field_rename_and_json_name():
    before = P3 + "message M {\n  string a = 1;\n}\n"
    after = P3 + "message M {\n  string b = 1;\n}\n"
    rules = {f.rule: f for f in run(before, after)}
    assert rules["FIELD_SAME_NAME"].message == (
        'Field "1" on message "M" changed name from "a" to "b".'
    )
    assert rules["FIELD_SAME_JSON_NAME"].message == (
        'Field "1" with name "b" on message "M" changed option "json_name" from "a" to "b".'
    )


def test_field_moved_into_a_oneof():
    before = P3 + "message M {\n  string a = 1;\n}\n"
    after = P3 + "message M {\n  oneof o {\n    string a = 1;\n  }\n}\n"
    [finding] = only(run(before, after), "FIELD_SAME_ONEOF")
    assert (
        finding.message
        == 'Field "1" with name "a" on message "M" moved from outside to inside a oneof.'
    )


def test_message_enum_and_nested_deletions():
    before = P3 + "message M {\n  message N {}\n}\nmessage Gone {}\nenum E { E_UNSPECIFIED = 0; }\n"
    after = P3 + "message M {\n}\n"
    findings = run(before, after)
    assert [(f.rule, f.start_line, f.message) for f in findings] == [
        ("ENUM_NO_DELETE", 0, 'Previously present enum "E" was deleted from file.'),
        ("MESSAGE_NO_DELETE", 0, 'Previously present message "Gone" was deleted from file.'),
        ("MESSAGE_NO_DELETE", 3, 'Previously present message "M.N" was deleted from file.'),
    ]


def test_enum_value_deletion_and_rename():
    before = P3 + "enum E {\n  E_UNSPECIFIED = 0;\n  E_ONE = 1;\n  E_TWO = 2;\n}\n"
    after = P3 + "enum E {\n  E_UNSPECIFIED = 0;\n  E_UNO = 1;\n}\n"
    findings = run(before, after)
    assert [(f.rule, f.message) for f in findings] == [
        ("ENUM_VALUE_NO_DELETE", 'Previously present enum value "2" on enum "E" was deleted.'),
        (
            "ENUM_VALUE_SAME_NAME",
            'Enum value "1" on enum "E" changed name from "E_ONE" to "E_UNO".',
        ),
    ]
    assert findings[1].start_line == 5 and findings[1].start_col == 11


def test_enum_value_deletion_allowed_when_number_reserved_under_wire():
    before = P3 + "enum E {\n  E_UNSPECIFIED = 0;\n  E_ONE = 1;\n}\n"
    after = P3 + "enum E {\n  E_UNSPECIFIED = 0;\n  reserved 1;\n}\n"
    assert run(before, after, use=["WIRE"]) == []
    [finding] = run(before, after, use=["ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED"])
    assert finding.message.endswith('was deleted without reserving the name "E_ONE".')


SERVICE_BEFORE = (
    P3
    + "message A {}\nmessage B {}\nservice S {\n  rpc Get(A) returns (A);\n  rpc Put(A) returns (A);\n}\n"
)


def test_rpc_deleted_and_signature_changes():
    after = (
        P3 + "message A {}\nmessage B {}\nservice S {\n  rpc Get(stream B) returns (stream A);\n}\n"
    )
    findings = run(SERVICE_BEFORE, after)
    assert [(f.rule, f.message) for f in findings] == [
        ("RPC_NO_DELETE", 'Previously present RPC "Put" on service "S" was deleted.'),
        (
            "RPC_SAME_CLIENT_STREAMING",
            'RPC "Get" on service "S" changed from client unary to client streaming.',
        ),
        (
            "RPC_SAME_SERVER_STREAMING",
            'RPC "Get" on service "S" changed from server unary to server streaming.',
        ),
        (
            "RPC_SAME_REQUEST_TYPE",
            'RPC "Get" on service "S" changed request type from "p.A" to "p.B".',
        ),
    ]


def test_service_deleted_has_no_location():
    after = P3 + "message A {}\nmessage B {}\n"
    [finding] = run(SERVICE_BEFORE, after)
    assert (finding.rule, finding.start_line) == ("SERVICE_NO_DELETE", 0)
    assert str(finding) == 'a.proto:1:1:Previously present service "S" was deleted from file.'


def test_response_type_change():
    after = SERVICE_BEFORE.replace("rpc Put(A) returns (A)", "rpc Put(A) returns (B)")
    [finding] = run(SERVICE_BEFORE, after)
    assert finding.rule == "RPC_SAME_RESPONSE_TYPE"


def test_package_and_go_package_changes():
    before = 'syntax = "proto3";\npackage p;\noption go_package = "x/p";\nmessage M {}\n'
    after = 'syntax = "proto3";\npackage q;\noption go_package = "x/q";\nmessage M {}\n'
    rules = {f.rule: f for f in run(before, after)}
    assert rules["FILE_SAME_PACKAGE"].message == 'File package changed from "p" to "q".'
    assert (
        rules["FILE_SAME_GO_PACKAGE"].message
        == 'File option "go_package" changed from "x/p" to "x/q".'
    )
    assert rules["FILE_SAME_PACKAGE"].start_line == 2
    package_rules = {f.rule for f in run(before, after, use=["PACKAGE"])}
    assert "PACKAGE_NO_DELETE" in package_rules


def test_reserved_removed():
    before = P3 + 'message M {\n  reserved 3 to 5;\n  reserved "x";\n}\n'
    after = P3 + "message M {\n  reserved 3;\n}\n"
    findings = run(before, after)
    assert [f.message for f in findings] == [
        'Previously present reserved name "x" on message "M" was deleted.',
        'Previously present reserved range "[3,5]" on message "M" is missing values: [4,5] were removed.',
    ]
    assert {f.rule for f in findings} == {"RESERVED_MESSAGE_NO_DELETE"}


def test_file_deleted():
    against = parse_descriptor_set(compile_protos({"a.proto": P3, "b.proto": P3}))
    current = parse_descriptor_set(compile_protos({"a.proto": P3}))
    [finding] = check_breaking(against=against, current=current)
    assert (finding.rule, finding.file) == ("FILE_NO_DELETE", "b.proto")
    assert finding.message == 'Previously present file "b.proto" was deleted.'


def test_required_field_added_in_proto2():
    before = 'syntax = "proto2";\nmessage M {\n  optional string a = 1;\n}\n'
    after = (
        'syntax = "proto2";\nmessage M {\n  optional string a = 1;\n  required int32 b = 2;\n}\n'
    )
    [finding] = run(before, after)
    assert finding.rule == "MESSAGE_SAME_REQUIRED_FIELDS"
    assert finding.start_line == 4


def test_use_and_except_take_ids_and_categories_like_buf_yaml():
    default = resolve_rules()
    assert "FIELD_NO_DELETE" in default and "PACKAGE_NO_DELETE" not in default
    assert "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED" not in default
    assert resolve_rules(use=["FILE"], except_=["FIELD_NO_DELETE"]).count("FIELD_NO_DELETE") == 0
    assert resolve_rules(use=["FIELD_SAME_LABEL"]) == ["FIELD_SAME_CARDINALITY"]
    wire = resolve_rules(use=["WIRE"])
    assert "FIELD_WIRE_COMPATIBLE_TYPE" in wire and "FIELD_SAME_TYPE" not in wire
    with pytest.raises(UnknownRuleError):
        resolve_rules(use=["NOT_A_RULE"])


def test_findings_are_in_bufs_order():
    before = (
        P3 + "message M {\n  string a = 1;\n  string b = 2;\n}\nmessage Z {\n  int32 c = 1;\n}\n"
    )
    after = P3 + "message M {\n}\nmessage Z {\n  string c = 1;\n}\n"
    findings = run(before, after)
    assert [f.sort_key() for f in findings] == sorted(f.sort_key() for f in findings)
    assert [f.rule for f in findings] == ["FIELD_NO_DELETE", "FIELD_NO_DELETE", "FIELD_SAME_TYPE"]


# ---- real history from grpc/grpc-proto -----------------------------------------------------------


def history(history_dir, case):
    sides = {}
    for side in ("previous", "current"):
        files = read_proto_dir(history_dir / case / side)
        sides[side] = (parse_descriptor_set(compile_protos(files)), set(files))
    return sides


def check_history(history_dir, case, **kwargs):
    sides = history(history_dir, case)
    return check_breaking(
        against=sides["previous"][0], current=sides["current"][0],
        against_files=sides["previous"][1], current_files=sides["current"][1], **kwargs,
    )  # fmt: skip


def test_history_rls_removed_fields_are_reserved(history_dir):
    findings = check_history(history_dir, "rls-remove-deprecated-fields")
    assert [(f.rule, f.file, f.start_line, f.start_col, f.message) for f in findings] == [
        ("FIELD_NO_DELETE", "grpc/lookup/v1/rls.proto", 24, 1,
         'Previously present field "1" with name "server" on message "RouteLookupRequest" was deleted.'),
        ("FIELD_NO_DELETE", "grpc/lookup/v1/rls.proto", 24, 1,
         'Previously present field "2" with name "path" on message "RouteLookupRequest" was deleted.'),
    ]  # fmt: skip
    # Both numbers and names were reserved: wire and wire+JSON are satisfied.
    assert check_history(history_dir, "rls-remove-deprecated-fields", use=["WIRE_JSON"]) == []


def test_history_oob_field_removed_without_reservation(history_dir):
    [finding] = check_history(history_dir, "messages-remove-oob-report-field")
    assert finding.rule == "FIELD_NO_DELETE"
    assert '"12" with name "orca_oob_report" on message "SimpleRequest"' in finding.message
    wire = check_history(history_dir, "messages-remove-oob-report-field", use=["WIRE"])
    assert [f.rule for f in wire] == ["FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED"]


def test_history_added_rpc_is_not_breaking(history_dir):
    for use in (None, ["PACKAGE"], ["WIRE"], ["WIRE_JSON"]):
        assert check_history(history_dir, "health-add-list-rpc", use=use) == []
