import pytest
import requests

from integrations.argocd import argocd_client
from integrations.errors import IntegrationError
from integrations.github import github_client
from sandbox.demo import app_values, demo_service_names, rollout_config
from sandbox.gitops import gitops_repo

from .conftest import wait_until

SERVICES = demo_service_names(8)
SERVICE = SERVICES[0]


def _deploy(sandbox, service, environment, version, rollout, release_id="1") -> str:
    """Commit a new desired state to the GitOps repository, as the deploy workflow does."""
    gitops = gitops_repo(sandbox.state)
    values = app_values(service, environment, version, release_id, rollout)
    return gitops.write(service, environment, values, f"Deploy {service} {version}")


def _app(name):
    return argocd_client().application_get(name)


def _completed(name):
    """The application once its Rollout finished (health and Rollout are read one after another)."""

    def check():
        app = _app(name)
        return app.rollout.completed and app.health_status == "Healthy" and app

    return check


def _at_step(name, index):
    """Paused at step `index`, as both the Rollout and the application's health say. The
    adapter reads them in two requests, so for a moment they can disagree."""

    def check():
        app = _app(name)
        return (
            app.rollout.step_index == index
            and app.rollout.paused
            and app.health_status == "Suspended"
            and app
        )

    return check


def test_application_reads_gitops_state_at_head(release_sandbox):
    app = _app(f"{SERVICE}-staging")
    assert app.sync_status == "Synced"
    assert app.health_status == "Healthy"
    assert app.rollout.completed and app.rollout.actual_weight == 100
    gitops = gitops_repo(release_sandbox.state)
    assert app.revision == gitops.head()
    tag = gitops.applications()[1][(SERVICE, "staging")]["image"]["tag"]
    assert app.images == (f"registry.example.com/{SERVICE}:{tag}",)


def test_release_flows_from_workflow_through_gitops_to_canary_steps(release_sandbox):
    github = github_client()
    repo = f"example/{SERVICE}"
    version = github.versions_list(repo)[0].name
    inputs = {
        "service": SERVICE,
        "environment": "prod",
        "version": version,
        "release_id": "99",
        "strategy": "canary",
        "steps": "5,pause,25,pause:1s,50,pause,100",
    }
    run_id = github.workflow_dispatch(repo, "deploy.yml", "main", inputs)
    wait_until(lambda: github.workflow_run_get(repo, run_id).succeeded)
    gitops = gitops_repo(release_sandbox.state)
    assert "(release 99)" in gitops.commit_message("HEAD")
    name = f"{SERVICE}-prod"
    wait_until(lambda: _app(name).synced_revision == gitops.head())
    app = wait_until(_at_step(name, 1))
    assert app.sync_status == "Synced"
    assert app.health_status == "Suspended"
    # At 5% one of the three pods runs the new version; the stable ones run the old one.
    new = f"registry.example.com/{SERVICE}:{version}"
    assert new in app.images and len(app.images) == 2
    assert (app.rollout.set_weight, app.rollout.actual_weight) == (5, 5)
    assert app.rollout.weights == (5, 25, 50, 100)
    assert app.rollout.pause_reasons == ("CanaryPauseStep",)
    argocd_client().rollout_action(name, "resume")
    # 25% then a timed pause that resumes by itself, then the next indefinite pause at 50%.
    app = wait_until(_at_step(name, 5))
    assert (app.rollout.set_weight, app.rollout.actual_weight) == (50, 50)
    argocd_client().rollout_action(name, "resume")
    app = wait_until(_completed(name))
    assert app.rollout.actual_weight == 100
    assert app.rollout.step_index == app.rollout.step_count == 7
    assert app.images == (new,)


def test_abort_leaves_the_rollout_degraded_and_retry_starts_again(release_sandbox):
    name = f"{SERVICE}-prod"
    _deploy(release_sandbox, SERVICE, "prod", "7.0.0", rollout_config("canary", "10,pause,100"))
    wait_until(_at_step(name, 1))
    argocd_client().rollout_action(name, "abort")
    app = _app(name)
    assert app.health_status == "Degraded"
    assert app.rollout.aborted and app.rollout.aborted_at
    assert app.rollout.phase == "Degraded"
    assert app.rollout.message.startswith("RolloutAborted")
    assert app.rollout.actual_weight == 0
    assert not app.rollout.completed
    argocd_client().rollout_action(name, "retry")
    app = wait_until(_at_step(name, 1))
    assert not app.rollout.aborted and app.rollout.actual_weight == 10


def test_promote_full_skips_the_remaining_steps(release_sandbox):
    name = f"{SERVICE}-prod"
    _deploy(release_sandbox, SERVICE, "prod", "7.1.0", rollout_config("canary"))
    wait_until(_at_step(name, 1))
    argocd_client().rollout_action(name, "promote-full")
    app = wait_until(_completed(name))
    assert app.rollout.actual_weight == 100


def test_blue_green_waits_with_the_preview_until_promoted(release_sandbox):
    name = f"{SERVICE}-prod"
    _deploy(release_sandbox, SERVICE, "prod", "7.2.0", rollout_config("bluegreen"))
    app = wait_until(lambda: (a := _app(name)).rollout.paused and a)
    rollout = app.rollout
    assert rollout.strategy == "bluegreen"
    assert rollout.pause_reasons == ("BlueGreenPause",)
    assert rollout.preview_selector == rollout.current_hash != rollout.active_selector
    argocd_client().rollout_action(name, "resume")
    app = wait_until(_completed(name))
    assert app.rollout.active_selector == app.rollout.current_hash


def test_manual_sync_when_automated_sync_is_off(release_sandbox):
    name = f"{SERVICE}-dev"
    requests.post(
        f"{release_sandbox.endpoints['argocd']}/sandbox/applications/{name}",
        json={"automated": False},
        timeout=5,
    ).raise_for_status()
    revision = _deploy(release_sandbox, SERVICE, "dev", "8.0.0", rollout_config("rolling"))
    assert _app(name).sync_status == "OutOfSync"
    argocd_client().application_sync(name)
    app = wait_until(lambda: (a := _app(name)).sync_status == "Synced" and a)
    assert app.synced_revision == revision
    wait_until(_completed(name))


def test_disabled_action_is_refused_and_not_transient(release_sandbox):
    with pytest.raises(IntegrationError) as caught:
        argocd_client().rollout_action(f"{SERVICE}-staging", "abort")
    assert caught.value.status == 400
    assert not caught.value.transient
    assert "disabled" in caught.value.message


def test_unknown_application_is_not_transient(release_sandbox):
    with pytest.raises(IntegrationError) as caught:
        _app("nothing-here")
    assert caught.value.status == 404
    assert not caught.value.transient


def test_session_login_issues_a_token(release_sandbox, settings):
    url = release_sandbox.endpoints["argocd"]
    assert requests.get(f"{url}/api/v1/applications", timeout=5).status_code == 401
    refused = requests.post(
        f"{url}/api/v1/session", json={"username": "admin", "password": "no"}, timeout=5
    )
    assert refused.status_code == 401
    token = requests.post(
        f"{url}/api/v1/session", json={"username": "admin", "password": "sandbox"}, timeout=5
    ).json()["token"]
    settings.ARGOCD_TOKEN = token
    assert _app(f"{SERVICE}-dev").name == f"{SERVICE}-dev"


def test_list_answers_only_the_projected_fields(release_sandbox):
    url = release_sandbox.endpoints["argocd"]
    answer = requests.get(
        f"{url}/api/v1/applications",
        params={"fields": "items.metadata.name,items.status.sync.status"},
        headers={"Authorization": "Bearer switchyard-sandbox"},
        timeout=5,
    ).json()
    assert len(answer["items"]) == len(SERVICES) * 3
    assert answer["items"][0] == {
        "metadata": {"name": answer["items"][0]["metadata"]["name"]},
        "status": {"sync": {"status": "Synced"}},
    }


@pytest.mark.parametrize(
    "fault", [{"kind": "error", "status": 503}, {"kind": "timeout", "seconds": 2.5}]
)
def test_faults_are_transient(release_sandbox, arm_fault, settings, fault):
    assert _app(f"{SERVICE}-dev").sync_status == "Synced"
    arm_fault("argocd", path="/api/v1/applications", count=1, **fault)
    settings.INTEGRATION_TIMEOUT_SECONDS = 0.5
    with pytest.raises(IntegrationError) as caught:
        _app(f"{SERVICE}-dev")
    assert caught.value.transient
    settings.INTEGRATION_TIMEOUT_SECONDS = 5
    assert _app(f"{SERVICE}-dev").sync_status == "Synced"  # the fault was used up
