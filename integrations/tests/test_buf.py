"""The buf adapter against the real buf CLI (buf-bin): output parsed, failures mapped."""

import pytest

from integrations.buf import BufCli, ProtoSet, buf_binary, config_read
from integrations.errors import IntegrationError

P3 = 'syntax = "proto3";\npackage a.v1;\n'
BEFORE = ProtoSet({"a/v1/a.proto": P3 + "message M {}\n", "a/v1/b.proto": P3})
AFTER = ProtoSet({"a/v1/a.proto": P3 + "message M {}\n"})


def cli(**kwargs) -> BufCli:
    return BufCli(**{"binary": buf_binary(), "timeout": 60, **kwargs})


def test_finding_without_a_file_is_printed_on_input_as_buf_does():
    output = cli().breaking(current=AFTER, against=BEFORE, error_format="text")
    [finding] = output.findings
    assert (finding.path, finding.rule) == ("", "FILE_NO_DELETE")
    assert output.rendered == f"{finding}\n"
    assert output.rendered == '<input>:1:1:Previously present file "a/v1/b.proto" was deleted.\n'


def test_v2_ignore_paths_are_those_of_the_set():
    config = "version: v2\nbreaking:\n  ignore_only:\n    FIELD_NO_DELETE: [a/v1/a.proto]\n"
    before = ProtoSet({"a/v1/a.proto": P3 + "message M {\n  string a = 1;\n}\n"})
    after = ProtoSet({"a/v1/a.proto": P3 + "message M {}\n"}, config=config)
    assert cli().breaking(current=after, against=before).findings == []
    assert [
        f.rule for f in cli().breaking(current=ProtoSet(after.files), against=before).findings
    ] == ["FIELD_NO_DELETE"]


def test_missing_binary_is_a_permanent_error_naming_the_fix(tmp_path):
    with pytest.raises(IntegrationError, match="install buf-bin") as info:
        cli(binary=str(tmp_path / "buf")).lint(files=AFTER)
    assert info.value.transient is False and info.value.system == "buf"


def test_timeout_is_a_transient_error():
    with pytest.raises(IntegrationError, match="did not finish") as info:
        cli(timeout=0.001).breaking(current=AFTER, against=BEFORE)
    assert info.value.transient is True


def test_buf_refusing_the_input_is_reported_with_its_message():
    broken = ProtoSet({"a.proto": 'syntax = "proto3";\nmessage M { strin a = 1; }\n'})
    refused = "buf cannot compile the files: a.proto:2:13:.*strin"
    with pytest.raises(IntegrationError, match=refused) as info:
        cli().lint(files=broken)
    assert info.value.transient is False


def test_config_keeps_only_what_decides_the_checks():
    text = "version: v1\nname: buf.build/acme/x\ndeps: [buf.build/googleapis/googleapis]\n"
    assert config_read(text + "breaking:\n  use: [WIRE]\n") == {
        "version": "v1",
        "breaking": {"use": ["WIRE"]},
    }
