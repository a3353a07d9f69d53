"""proto_files_fetch against the GitHub sandbox's contents API."""

import pytest
import requests

from apidocs.protos import compile_protos
from integrations.errors import IntegrationError
from integrations.github import github_client
from sandbox.demo import demo_protos, demo_service_names

SERVICE = demo_service_names(1)[0]
REPO = f"https://github.com/example/{SERVICE}"


def _put(sandbox, path, text):
    url = f"{sandbox.endpoints['github']}/sandbox/repos/example/{SERVICE}/contents/{path}"
    requests.put(url, json={"text": text}, timeout=5).raise_for_status()


def test_fetches_the_proto_tree_keyed_below_the_root(release_sandbox):
    files = github_client().proto_files_fetch(REPO, "proto/", ref="main")

    expected = {p.removeprefix("proto/"): t for p, t in demo_protos(SERVICE).items()}
    assert files == expected
    assert compile_protos(files)  # the imports resolve with proto/ as include root


def test_other_files_and_deeper_directories(release_sandbox):
    _put(release_sandbox, "proto/extra/deep/more/x.proto", 'syntax = "proto3";\n')
    _put(release_sandbox, "proto/README.md", "# not a proto\n")

    files = github_client().proto_files_fetch(REPO, "proto", ref="main")

    assert "extra/deep/more/x.proto" in files and "README.md" not in files


def test_a_single_file_path(release_sandbox):
    path = next(iter(demo_protos(SERVICE)))
    files = github_client().proto_files_fetch(REPO, path, ref="main")
    assert list(files) == [path.rsplit("/", 1)[-1]]


def test_caps_file_count(release_sandbox):
    with pytest.raises(IntegrationError, match="more than 1 .proto files") as info:
        github_client().proto_files_fetch(REPO, "proto", ref="main", max_files=1)
    assert info.value.transient is False


def test_caps_total_size(release_sandbox):
    with pytest.raises(IntegrationError, match="larger than 10 bytes"):
        github_client().proto_files_fetch(REPO, "proto", ref="main", max_bytes=10)


def test_unknown_path_and_ref_are_permanent(release_sandbox):
    with pytest.raises(IntegrationError, match="HTTP 404") as info:
        github_client().proto_files_fetch(REPO, "nothing/here", ref="main")
    assert info.value.transient is False
    with pytest.raises(IntegrationError, match="No commit found for the ref nope"):
        github_client().proto_files_fetch(REPO, "proto", ref="nope")


def test_no_protos_under_path(release_sandbox):
    _put(release_sandbox, "docs/index.md", "hi\n")
    with pytest.raises(IntegrationError, match="no .proto files"):
        github_client().proto_files_fetch(REPO, "docs", ref="main")


def test_server_errors_are_transient(release_sandbox, arm_fault):
    arm_fault("github", path=f"/repos/example/{SERVICE}/contents", kind="error", status=503)
    with pytest.raises(IntegrationError) as info:
        github_client().proto_files_fetch(REPO, "proto", ref="main")
    assert info.value.transient is True
