import subprocess

import pytest
import requests

from integrations.errors import IntegrationError
from integrations.github import github_client, repo_full_name
from sandbox.demo import demo_service_names, demo_versions

from .conftest import wait_until

SERVICE = demo_service_names(1)[0]
REPO = f"https://github.com/example/{SERVICE}"


def _inputs(version, environment="staging", release_id="41", **extra):
    return {
        "service": SERVICE,
        "environment": environment,
        "version": version,
        "release_id": release_id,
        **extra,
    }


def _git_log(sandbox) -> str:
    gitops = sandbox.state.directory / "gitops"
    return subprocess.run(
        ["git", "-C", str(gitops), "log", "--format=%s"], capture_output=True, text=True
    ).stdout


def test_repo_full_name_accepts_urls_and_names():
    assert repo_full_name("https://github.com/example/a-b.git") == "example/a-b"
    assert repo_full_name("example/a-b") == "example/a-b"


def test_versions_list_is_newest_first(release_sandbox):
    versions = github_client().versions_list(REPO)
    expected = list(reversed(demo_versions(SERVICE)))
    assert [v.name for v in versions] == expected
    assert versions[0].tag == f"v{expected[0]}"
    assert versions[0].published_at > versions[-1].published_at


def test_versions_list_follows_pagination(release_sandbox):
    many = [f"2.{i // 10}.{i % 10}" for i in range(150)]
    requests.post(
        f"{release_sandbox.endpoints['github']}/sandbox/repos",
        json={"owner": "acme", "name": "big", "versions": many},
        timeout=5,
    ).raise_for_status()
    versions = github_client().versions_list("acme/big", limit=150)
    assert [v.name for v in versions] == list(reversed(many))
    assert len(github_client().versions_list("acme/big")) == 50


def test_version_committed_at_is_the_tags_commit_time_before_its_release(release_sandbox):
    client = github_client()
    newest = client.versions_list(REPO)[0]
    committed = client.version_committed_at(REPO, newest.name)
    assert committed is not None and committed < newest.published_at
    assert client.version_committed_at(REPO, newest.tag) == committed


def test_version_committed_at_of_an_unknown_version_is_none(release_sandbox):
    assert github_client().version_committed_at(REPO, "9.9.9") is None


def test_dispatch_returns_run_that_completes_and_commits_to_gitops(release_sandbox):
    client = github_client()
    version = client.versions_list(REPO)[0].name
    run_id = client.workflow_dispatch(REPO, "deploy.yml", "main", _inputs(version))
    first = client.workflow_run_get(REPO, run_id)
    assert first.status in {"queued", "in_progress"}
    assert "release 41" in first.display_title
    done = wait_until(lambda: (r := client.workflow_run_get(REPO, run_id)).completed and r)
    assert done.succeeded
    assert f"Deploy {SERVICE} {version} to staging (release 41)" in _git_log(release_sandbox)
    values = release_sandbox.state.directory / "gitops" / "apps" / SERVICE / "staging"
    assert f"tag: {version}" in (values / "values.yaml").read_text()


def test_dispatch_finds_the_run_by_name_without_run_details(release_sandbox):
    requests.post(
        f"{release_sandbox.endpoints['github']}/sandbox/settings",
        json={"return_run_details": False},
        timeout=5,
    ).raise_for_status()
    client = github_client()
    version = client.versions_list(REPO)[1].name
    first = client.workflow_dispatch(REPO, "deploy.yml", "main", _inputs(version, release_id="7"))
    second = client.workflow_dispatch(REPO, "deploy.yml", "main", _inputs(version, release_id="8"))
    assert first != second
    assert client.workflow_run_get(REPO, second).display_title.endswith("(release 8)")
    assert client.workflow_run_find(REPO, "deploy.yml", "(release 7)").id == first


def test_dispatch_without_required_input_is_refused(release_sandbox):
    with pytest.raises(IntegrationError) as caught:
        github_client().workflow_dispatch(REPO, "deploy.yml", "main", {"service": SERVICE})
    assert caught.value.status == 422
    assert not caught.value.transient
    assert "Required input" in caught.value.message


def test_run_with_unknown_version_fails_without_touching_gitops(release_sandbox):
    client = github_client()
    before = _git_log(release_sandbox)
    run_id = client.workflow_dispatch(REPO, "deploy.yml", "main", _inputs("9.9.9"))
    done = wait_until(lambda: (r := client.workflow_run_get(REPO, run_id)).completed and r)
    assert done.conclusion == "failure"
    assert _git_log(release_sandbox) == before


@pytest.mark.parametrize("approve", [True, False])
def test_run_waits_at_environment_review(release_sandbox, approve):
    requests.put(
        f"{release_sandbox.endpoints['github']}/sandbox/repos/example/{SERVICE}/environments/prod",
        json={"required_reviewers": True},
        timeout=5,
    ).raise_for_status()
    client = github_client()
    version = client.versions_list(REPO)[0].name
    run_id = client.workflow_dispatch(REPO, "deploy.yml", "main", _inputs(version, "prod"))
    wait_until(lambda: client.workflow_run_get(REPO, run_id).waiting)
    [pending] = client.pending_deployments_list(REPO, run_id)
    assert pending.environment == "prod"
    deployments = client.pending_deployments_review(
        REPO, run_id, approve=approve, comment="looks good" if approve else "no"
    )
    assert len(deployments) == 1
    done = wait_until(lambda: (r := client.workflow_run_get(REPO, run_id)).completed and r)
    assert done.succeeded is approve
    assert (f"{version} to prod" in _git_log(release_sandbox)) is approve
    with pytest.raises(IntegrationError, match="waits on no environment review"):
        client.pending_deployments_review(REPO, run_id, approve=True, comment="again")


def test_wrong_token_is_a_permanent_error(release_sandbox, settings):
    settings.GITHUB_TOKEN = "wrong"
    with pytest.raises(IntegrationError) as caught:
        github_client().versions_list(REPO)
    assert caught.value.status == 401
    assert not caught.value.transient


def test_unknown_repository_is_a_permanent_error(release_sandbox):
    with pytest.raises(IntegrationError) as caught:
        github_client().versions_list("someone-else/nothing")
    assert caught.value.status == 404
    assert not caught.value.transient


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "error", "status": 502},
        {"kind": "rate_limit"},
        {"kind": "timeout", "seconds": 2.5},
    ],
)
def test_faults_are_transient(release_sandbox, arm_fault, settings, fault):
    arm_fault("github", path=f"/repos/example/{SERVICE}/releases", count=1, **fault)
    settings.INTEGRATION_TIMEOUT_SECONDS = 1
    with pytest.raises(IntegrationError) as caught:
        github_client().versions_list(REPO)
    assert caught.value.transient
    settings.INTEGRATION_TIMEOUT_SECONDS = 5
    if fault["kind"] == "rate_limit":
        assert caught.value.status == 403
    assert github_client().versions_list(REPO)  # the fault was used up
