import json

import pytest
from django.core.management import CommandError, call_command

from apidocs.models import ApiVersion


def breaking(capsys, *args):
    with pytest.raises(SystemExit) as info:
        call_command("proto_breaking", *args)
        raise SystemExit(0)
    return info.value.code, capsys.readouterr().out


def test_json_output_lists_findings_and_exits_non_zero(capsys, history_dir):
    case = history_dir / "messages-remove-oob-report-field"
    code, out = breaking(
        capsys, "--against", str(case / "previous"), "--current", str(case / "current"),
        "--format", "json",
    )  # fmt: skip
    assert code == 1
    [item] = json.loads(out)
    assert item == {
        "path": "grpc/testing/messages.proto",
        "start_line": item["start_line"],
        "start_column": 1,
        "end_line": item["end_line"],
        "end_column": 2,
        "rule": "FIELD_NO_DELETE",
        "categories": ["CSR", "FILE", "PACKAGE"],
        "message": item["message"],
    }
    assert item["message"].startswith("Previously present field")


def test_text_output_is_file_line_col_message(capsys, history_dir):
    case = history_dir / "rls-remove-deprecated-fields"
    code, out = breaking(
        capsys, "--against", str(case / "previous"), "--current", str(case / "current")
    )
    assert code == 1
    assert out.splitlines()[0].startswith("grpc/lookup/v1/rls.proto:24:1:Previously present field")


@pytest.mark.parametrize("error_format", ["text", "json", "github-actions"])
def test_error_format_is_exactly_what_buf_prints(capsys, history_dir, error_format):
    from .test_buf_differential import buf_prints

    case = history_dir / "rls-remove-deprecated-fields"
    code, out = breaking(
        capsys, "--against", str(case / "previous"), "--current", str(case / "current"),
        "--error-format", error_format,
    )  # fmt: skip
    expected = buf_prints(case / "previous", case / "current", error_format=error_format)
    assert code == 1 and out == expected and out.count("\n") == 2


def test_no_findings_exit_zero(capsys, history_dir):
    case = history_dir / "health-add-list-rpc"
    code, out = breaking(
        capsys, "--against", str(case / "previous"), "--current", str(case / "current"),
        "--format", "json",
    )  # fmt: skip
    assert code == 0 and json.loads(out) == []


def test_except_removes_rules(capsys, history_dir):
    case = history_dir / "rls-remove-deprecated-fields"
    code, out = breaking(
        capsys, "--against", str(case / "previous"), "--current", str(case / "current"),
        "--use", "FILE,PACKAGE", "--except", "FIELD_NO_DELETE", "--format", "json",
    )  # fmt: skip
    assert code == 0 and json.loads(out) == []


def test_unknown_rule_is_an_error(history_dir):
    case = history_dir / "health-add-list-rpc"
    with pytest.raises(CommandError, match='"NOPE" is not a known rule or category ID'):
        call_command(
            "proto_breaking", "--against", str(case / "previous"), "--current",
            str(case / "current"), "--use", "NOPE",
        )  # fmt: skip


def test_import_protos_stores_the_shared_set(component, protos_dir):
    call_command("import_protos", component.name, str(protos_dir))
    version = ApiVersion.objects.get()
    assert len(version.files) == 32
    assert version.symbols.filter(kind="service").count() == 17
    assert version.author_label == "command:import_protos"


def test_import_protos_by_entity_ref_and_compile_error(component, tmp_path):
    (tmp_path / "bad.proto").write_text('syntax = "proto3";\nmessage M { strin a = 1; }\n')
    with pytest.raises(CommandError, match=r"bad.proto:2:13"):
        call_command("import_protos", "component:default/payments-api", str(tmp_path))
    assert not ApiVersion.objects.exists()
