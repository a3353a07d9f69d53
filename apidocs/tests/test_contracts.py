"""buf's configuration honoured, lint and format on the version page, and buf failing cleanly."""

import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from apidocs.contracts import BufUnavailable
from apidocs.models import ApiVersion
from apidocs.services import BreakingChangeRejected, api_version_create
from catalog.models import ApiRelation, Component, Team
from integrations.buf import buf_binary
from portal.errors import ValidationFailed
from portal.models import AuditEvent

from .test_buf_differential import as_tuples, buf_prints, store_pair, stored, write

P3 = 'syntax = "proto3";\npackage a.v1;\n'
BEFORE = {
    "a/v1/a.proto": P3 + "message M {\n  string a = 1;\n  int32 b = 2;\n}\n",
    "a/v1/b.proto": P3 + "message N {\n  string a = 1;\n  int32 b = 2;\n}\n",
}
AFTER = {
    "a/v1/a.proto": P3 + "message M {\n  string a = 1;\n}\n",
    "a/v1/b.proto": P3 + "message N {\n  int64 b = 2;\n}\n",
}
UNSTABLE = {p.replace("v1", "v1alpha1"): t.replace("a.v1", "a.v1alpha1") for p, t in BEFORE.items()}
UNSTABLE_AFTER = {
    p.replace("v1", "v1alpha1"): t.replace("a.v1", "a.v1alpha1") for p, t in AFTER.items()
}
CONFIGS = {
    "v1-ignore": "version: v1\nbreaking:\n  use: [FILE]\n  ignore: [a/v1/b.proto]\n",
    "v1-ignore-only": "version: v1\nbreaking:\n  use: [FILE]\n  ignore_only:\n"
    "    FIELD_NO_DELETE: [a/v1]\n",
    "v1-except": "version: v1\nbreaking:\n  use: [WIRE]\n  except: [FIELD_WIRE_COMPATIBLE_TYPE]\n",
    "v2-ignore": "version: v2\nbreaking:\n  use: [FILE]\n  ignore: [a/v1/a.proto]\n",
    "v2-module-ignore-only": "version: v2\nmodules:\n  - path: .\n    breaking:\n"
    "      use: [PACKAGE]\n      ignore_only:\n        FIELD_SAME_TYPE: [a/v1/b.proto]\n",
    "v2-except": "version: v2\nbreaking:\n  use: [WIRE_JSON]\n"
    "  except: [FIELD_NO_DELETE_UNLESS_NAME_RESERVED]\n",
}


@pytest.mark.parametrize("name", CONFIGS)
def test_buf_yaml_of_the_set_is_honoured_as_buf_does(name, tmp_path, owner, definition):
    before = {**BEFORE, "buf.yaml": CONFIGS[name]}
    after = {**AFTER, "buf.yaml": CONFIGS[name]}
    expected = as_tuples(buf_prints(write(tmp_path / "b", before), write(tmp_path / "a", after)))
    unconfigured = as_tuples(
        buf_prints(write(tmp_path / "b0", BEFORE), write(tmp_path / "a0", AFTER))
    )
    assert expected and expected != unconfigured  # the config changes what buf reports

    assert stored(store_pair(owner, definition, before, after)) == expected


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_ignore_unstable_packages(version, tmp_path, owner, definition):
    text = f"version: {version}\nbreaking:\n  use: [FILE]\n  ignore_unstable_packages: true\n"
    before, after = {**UNSTABLE, "buf.yaml": text}, {**UNSTABLE_AFTER, "buf.yaml": text}
    assert as_tuples(buf_prints(write(tmp_path / "b", before), write(tmp_path / "a", after))) == []
    assert stored(store_pair(owner, definition, before, after)) == []
    # Without the option the same change is breaking.
    with pytest.raises(BreakingChangeRejected):
        api_version_create(actor=owner, api=definition, files=UNSTABLE)


def test_production_default_is_wire_json_and_others_file(owner, definition):
    api_version_create(actor=owner, api=definition, files=BEFORE)
    with pytest.raises(BreakingChangeRejected) as production:
        api_version_create(actor=owner, api=definition, files=AFTER)
    definition.component.lifecycle = "experimental"
    definition.component.save(update_fields=["lifecycle"])
    with pytest.raises(BreakingChangeRejected) as experimental:
        api_version_create(actor=owner, api=definition, files=AFTER)
    assert {f.rule for f in production.value.findings} == {
        "FIELD_NO_DELETE_UNLESS_NAME_RESERVED",
        "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
        "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
    }
    assert {f.rule for f in experimental.value.findings} == {"FIELD_NO_DELETE", "FIELD_SAME_TYPE"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: v1\nbreaking: [\n", "buf.yaml is not valid YAML"),
        ("version: v3\n", "'v3' is not v1 or v2"),
        ("version: v2\nmodules:\n  - path: a\n  - path: b\n", "one module at the root"),
        ("version: v2\nbreaking:\n  ignore: a/v1\n", "breaking.ignore must be a list"),
        ("version: v1\nlint: [DEFAULT]\n", "lint must be a mapping"),
    ],
)
def test_unusable_buf_yaml_is_refused_and_nothing_stored(text, message, owner, definition):
    with pytest.raises(ValidationFailed, match=message):
        api_version_create(actor=owner, api=definition, files={**BEFORE, "buf.yaml": text})
    assert not ApiVersion.objects.exists()


def test_googleapis_imports_are_given_to_buf(owner, definition):
    head = P3 + 'import "google/api/annotations.proto";\nmessage M {}\n'
    rpc = '  rpc Get(M) returns (M) {\n    option (google.api.http) = {get: "/m"};\n  }\n'
    v1 = {"a/v1/a.proto": head + "service S {\n" + rpc + "  rpc Put(M) returns (M);\n}\n"}
    v2 = {"a/v1/a.proto": head + "service S {\n" + rpc + "}\n"}
    definition.component.lifecycle = "experimental"
    definition.component.save(update_fields=["lifecycle"])
    version = store_pair(owner, definition, v1, v2)
    assert [(f["path"], f["rule"]) for f in version.breaking_findings] == [
        ("a/v1/a.proto", "RPC_NO_DELETE")
    ]


@pytest.mark.parametrize("fault", ["missing", "timeout"])
def test_buf_failing_stores_nothing_and_says_what_to_do(
    fault, owner, definition, settings, tmp_path, client
):
    api_version_create(actor=owner, api=definition, files=BEFORE)
    audits = AuditEvent.objects.count()
    if fault == "missing":
        settings.BUF_BINARY = str(tmp_path / "no-such-buf")
        message = "cannot be run .* install buf-bin"
    else:
        settings.BUF_TIMEOUT_SECONDS = 0.001
        message = "did not finish within 0.001 s.*Try again"
    with pytest.raises(BufUnavailable, match=f"Nothing was stored.*|{message}") as info:
        api_version_create(actor=owner, api=definition, files=AFTER, accept_breaking_reason="x")
    assert "Nothing was stored" in info.value.message
    assert definition.versions.count() == 1 and AuditEvent.objects.count() == audits

    client.force_login(owner)
    upload = reverse("apidocs:version_upload", args=[definition.pk])
    files = [_upload(path, text) for path, text in AFTER.items()]
    response = client.post(upload, {"files": files, "accept_breaking_reason": "x"})
    assert response.status_code == 200 and "buf could not check for breaking" in response.text
    assert definition.versions.count() == 1


def _upload(path, text):
    return SimpleUploadedFile(path, text.encode())


def test_lint_is_computed_on_first_view_as_buf_prints_it(
    owner, definition, client, settings, tmp_path
):
    files = {
        **AFTER,
        "buf.yaml": "version: v2\nlint:\n  use: [STANDARD, COMMENTS]\n  except: [COMMENT_FIELD]\n"
        "  ignore: [a/v1/b.proto]\n",
    }
    version = api_version_create(actor=owner, api=definition, files=files)
    assert version.lint_findings is None  # storing a version never waits for lint
    run = subprocess.run(
        [buf_binary(), "lint", ".", "--error-format", "json"], cwd=write(tmp_path / "s", files),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    expected = as_tuples(run.stdout)
    assert [e[3] for e in expected] == ["COMMENT_MESSAGE"]  # except and ignore honoured

    client.force_login(owner)
    url = reverse("apidocs:version_detail", args=[definition.pk, 1])
    page = client.get(url).text
    version.refresh_from_db()
    lint = [
        (
            f["path"],
            f["start_line"],
            f["start_column"],
            f["rule"],
            f["message"],
            f["end_line"],
            f["end_column"],
        )
        for f in version.lint_findings
    ]
    assert lint == expected
    assert all(f"<code>{e[3]}</code>" in page for e in expected)

    settings.BUF_BINARY = str(tmp_path / "no-such-buf")  # a second view does not run buf
    assert f"<code>{expected[0][3]}</code>" in client.get(url).text


def test_lint_failure_is_shown_and_nothing_stored(owner, definition, client, settings, tmp_path):
    api_version_create(actor=owner, api=definition, files=AFTER)
    settings.BUF_BINARY = str(tmp_path / "no-such-buf")
    client.force_login(owner)
    page = client.get(reverse("apidocs:version_detail", args=[definition.pk, 1]))
    assert page.status_code == 200 and "buf could not lint the files" in page.text
    assert definition.versions.get().lint_findings is None


def test_format_view_shows_buf_format_diff(owner, definition, client):
    api_version_create(
        actor=owner, api=definition, files={"a.proto": P3 + "message M { string a = 1; }\n"}
    )
    url = reverse("apidocs:version_format", args=[definition.pk, 1])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(owner)
    page = client.get(url).text
    assert "-message M { string a = 1; }" in page and "+  string a = 1;" in page


def test_version_page_shows_who_an_accepted_breaking_change_affects(
    owner, definition, component, client
):
    api_entity = Component.objects.create(name="payments-grpc", entity_kind="API")
    ApiRelation.objects.create(component=component, api=api_entity, relation="provides")
    checkout = Team.objects.create(name="checkout")
    consumer = Component.objects.create(name="checkout-web", owner=checkout)
    ApiRelation.objects.create(component=consumer, api=api_entity, relation="consumes")
    version = store_pair(owner, definition, BEFORE, AFTER)
    assert version.breaking_findings and version.breaking_accepted_reason == "differential suite"

    client.force_login(owner)
    page = client.get(version.get_absolute_url()).text
    count = len(version.breaking_findings)
    assert f"accepted with {count} breaking change(s)" in page and "differential suite" in page
    assert "checkout-web" in page and "checkout" in page and "against v1" in page


def test_proto_lint_command_lints_latest_versions_ahead_of_the_page(owner, definition):
    api_version_create(actor=owner, api=definition, files=BEFORE)
    api_version_create(actor=owner, api=definition, files={**BEFORE, "x.proto": P3})
    call_command("proto_lint")
    first, latest = definition.versions.order_by("number")
    assert first.lint_findings is None
    assert "PACKAGE_DIRECTORY_MATCH" in {f["rule"] for f in latest.lint_findings}
    call_command("proto_lint", "--all-versions")
    first.refresh_from_db()
    assert first.lint_findings == []
