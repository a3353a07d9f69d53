"""What Switchyard stores and shows equals what the buf CLI prints for the same pair of sets.

buf is run here directly, as a user runs it: in the current directory, `buf breaking . --against
<previous> --error-format json`. Switchyard stores the same two sets as versions (through the
service, with a reason so that breaking ones are kept) and shows them on the version page.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.html import escape

from apidocs.protos import read_proto_dir
from apidocs.services import api_version_create, api_version_lint
from integrations.buf import buf_binary

from .buf_cases import BUF_SILENT, CASES, REPORTED_AS, V1_CASES, config

CATEGORIES = ["FILE", "PACKAGE", "WIRE_JSON", "WIRE"]
HISTORY = [
    "health-add-list-rpc",
    "messages-remove-oob-report-field",
    "rls-remove-deprecated-fields",
]


def write(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def buf_prints(previous: Path, current: Path, *args: str, error_format: str = "json") -> str:
    result = subprocess.run(
        [buf_binary(), "breaking", ".", "--against", str(previous), *args,
         "--error-format", error_format],
        cwd=current, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode in (0, 100), result.stderr
    return result.stdout


def as_tuples(stdout: str) -> list[tuple]:
    items = [json.loads(line) for line in stdout.splitlines() if line]
    return [
        (
            i.get("path", ""),
            i["start_line"],
            i["start_column"],
            i["type"],
            i["message"],
            i["end_line"],
            i["end_column"],
        )
        for i in items
    ]


def stored(version) -> list[tuple]:
    return [
        (
            f["path"],
            f["start_line"],
            f["start_column"],
            f["rule"],
            f["message"],
            f["end_line"],
            f["end_column"],
        )
        for f in version.breaking_findings
    ]


def store_pair(owner, definition, before: dict, after: dict):
    api_version_create(actor=owner, api=definition, files=before)
    return api_version_create(
        actor=owner, api=definition, files=after, accept_breaking_reason="differential suite"
    )


def assert_page_shows(client, owner, version, expected):
    client.force_login(owner)
    html = client.get(reverse("apidocs:version_detail", args=[version.definition_id, 2])).content
    html = html.decode()
    for path, line, column, rule, message, *_ in expected:
        assert f"<code>{escape(path or '<input>')}:{line}:{column}</code>" in html
        assert f"<code>{rule}</code>" in html and escape(message) in html


ALL_CASES = [(rule, "v2", *pair) for rule, pair in CASES.items()] + [
    (rule, "v1", *pair) for rule, pair in V1_CASES.items()
]


@pytest.mark.parametrize(("rule", "version", "before", "after"), ALL_CASES, ids=lambda v: v)
def test_each_buf_rule_is_stored_and_shown_as_buf_prints_it(
    rule, version, before, after, tmp_path, owner, definition, client
):
    before = {**before, "buf.yaml": config(rule, version)}
    after = {**after, "buf.yaml": config(rule, version)}
    expected = as_tuples(buf_prints(write(tmp_path / "b", before), write(tmp_path / "a", after)))
    reported = REPORTED_AS.get(rule, rule)
    assert (reported in {e[3] for e in expected}) == (rule not in BUF_SILENT)

    result = store_pair(owner, definition, before, after)

    assert stored(result) == expected
    assert result.breaking_policy == "buf.yaml"
    assert_page_shows(client, owner, result, expected)


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("case", HISTORY)
def test_proto_history_under_each_category_matches_buf(
    case, category, history_dir, tmp_path, owner, definition, client, settings
):
    settings.BUF_BREAKING_USE_PRODUCTION = category  # the component is production-facing
    previous = shutil.copytree(history_dir / case / "previous", tmp_path / "previous")
    current = shutil.copytree(history_dir / case / "current", tmp_path / "current")
    for root in (previous, current):
        (root / "buf.yaml").write_text(config(category))
    expected = as_tuples(buf_prints(previous, current))

    files = {p: t for p, t in read_proto_dir(history_dir / case / "current").items()}
    result = store_pair(owner, definition, read_proto_dir(history_dir / case / "previous"), files)

    assert stored(result) == expected
    assert result.breaking_policy == category
    assert_page_shows(client, owner, result, expected)


def test_lint_of_the_shared_protos_is_stored_as_buf_prints_it(protos_dir, owner, definition):
    run = subprocess.run(
        [buf_binary(), "lint", ".", "--error-format", "json"], cwd=protos_dir,
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    expected = as_tuples(run.stdout)
    assert len(expected) > 100  # the shared set has many DEFAULT-category findings

    version = api_version_create(actor=owner, api=definition, files=read_proto_dir(protos_dir))
    lint = api_version_lint(version=version)

    assert [
        (f["path"], f["start_line"], f["start_column"], f["rule"], f["message"],
         f["end_line"], f["end_column"])
        for f in lint
    ] == expected  # fmt: skip
    assert all(f["categories"] for f in lint)
