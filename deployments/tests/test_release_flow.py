"""Releases end to end against the sandbox: GitHub Actions -> GitOps -> Argo CD / Rollouts.

The release machine is driven by calling its poll step directly (what beat's tick does every
2 s), so the tests follow the real state machine without waiting for poll intervals.
"""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from approvals.models import ApprovalPolicy, ApprovalRequest
from approvals.services import approval_decide
from catalog.models import Component, ComponentEnvironment, Environment, Team
from deployments.models import Release
from deployments.releases import machine
from deployments.releases.services import release_abort, release_start
from integrations.argocd import argocd_client
from integrations.errors import IntegrationError
from integrations.github import github_client
from integrations.tests.conftest import wait_until
from portal.errors import PermissionDenied
from portal.models import AuditEvent, TeamMembership
from sandbox.demo import demo_service_names

SERVICE = demo_service_names(8)[0]
REPO = f"example/{SERVICE}"


@pytest.fixture
def shop(db, release_sandbox, make_user):
    team = Team.objects.create(name="payments")
    component = Component.objects.create(
        name=SERVICE, owner=team, repository=f"https://github.com/{REPO}"
    )
    envs = {
        "staging": Environment.objects.create(name="staging", order=2),
        "prod": Environment.objects.create(name="prod", order=3, is_production=True),
    }
    for env in envs.values():
        ComponentEnvironment.objects.create(
            component=component, environment=env, argocd_application=f"{SERVICE}-{env.name}"
        )
    owner, colleague = make_user("olivia"), make_user("camila")
    for user in (owner, colleague):
        TeamMembership.objects.create(user=user, team=team)
    return {"component": component, "envs": envs, "owner": owner, "colleague": colleague}


def newest_version() -> str:
    return github_client().versions_list(REPO)[0].name


def start(shop, env, capture, **extra):
    with capture(execute=True):  # the dispatch task runs (eagerly) after commit
        return release_start(
            actor=shop["owner"],
            component=shop["component"],
            environment=shop["envs"][env],
            version=extra.pop("version", None) or newest_version(),
            **extra,
        )


def follow(release, until, timeout=30):
    """Poll the release like beat does until its state is one of `until`."""

    def step():
        machine.release_poll_run(release_id=release.pk)
        release.refresh_from_db()
        return release.state in until and release

    return wait_until(step, timeout=timeout, interval=0.05)


def test_starting_the_workflow_records_when_the_version_was_committed(
    shop, django_capture_on_commit_callbacks
):
    version = newest_version()
    release = start(shop, "staging", django_capture_on_commit_callbacks, version=version)
    release.refresh_from_db()
    assert release.committed_at == github_client().version_committed_at(REPO, version)
    assert release.committed_at < release.created_at


def test_a_release_through_the_real_machine_is_told_as_cdevents_in_order(
    shop, cdevents_world, shared_dir, django_capture_on_commit_callbacks
):
    from deployments.cdevents.events import TYPES
    from deployments.cdevents.models import EventSink
    from deployments.tests.cdevents.schemas import cdevent_problems

    EventSink.objects.create(name="sandbox")
    release = start(shop, "staging", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        follow(release, {"succeeded"})
    received = cdevents_world.events()
    assert [e["type"] for e in received] == [
        TYPES["pipelinerun.queued"], TYPES["pipelinerun.started"],
        TYPES["pipelinerun.finished"],
        TYPES["service.upgraded"] if release.previous_version else TYPES["service.deployed"],
    ]  # fmt: skip
    assert all(cdevent_problems(shared_dir, e["data"]) == [] for e in received)
    assert received[-1]["data"]["subject"]["content"]["environment"]["id"] == "staging"


def test_rolling_release_to_staging_goes_live(shop, django_capture_on_commit_callbacks):
    release = start(shop, "staging", django_capture_on_commit_callbacks)
    assert release.state == "queued"
    release.refresh_from_db()
    assert release.state == "workflow" and release.workflow_run_id
    follow(release, {"succeeded"})
    app = argocd_client().application_get(f"{SERVICE}-staging")
    assert app.images == (f"registry.example.com/{SERVICE}:{release.version}",)
    states = list(release.events.values_list("state", flat=True))
    # Every step in order; "progressing" shows up only when a poll catches the rollout moving.
    assert states[:4] == ["queued", "dispatching", "workflow", "syncing"]
    assert states[-1] == "succeeded" and set(states[4:-1]) <= {"progressing"}
    run = github_client().workflow_run_get(REPO, release.workflow_run_id)
    assert run.succeeded and f"(release {release.pk})" in run.display_title
    # The release page's "workflow run" link opens the run's web page, not an API 404.
    page = requests.get(release.workflow_run_url, timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert f"run #{run.run_number}" in page.text and "success" in page.text


def test_duplicate_dispatch_task_changes_nothing(shop, django_capture_on_commit_callbacks):
    release = start(shop, "staging", django_capture_on_commit_callbacks)
    machine.release_dispatch_run(release_id=release.pk)  # a second delivery of the same task
    runs = [
        r
        for r in github_client()._repo(REPO).get_workflow_runs()
        if f"(release {release.pk})" in r.display_title
    ]
    assert len(runs) == 1
    assert release.events.filter(state="dispatching").count() == 1


def test_lost_dispatch_is_found_by_run_name_not_repeated(shop, django_capture_on_commit_callbacks):
    release = start(shop, "staging", django_capture_on_commit_callbacks)
    release.refresh_from_db()
    first_run = release.workflow_run_id
    # The worker died after GitHub accepted the dispatch but before the run id was saved.
    Release.objects.filter(pk=release.pk).update(
        state="dispatching",
        workflow_run_id=None,
        updated_at=timezone.now() - timedelta(minutes=5),
    )
    assert machine.releases_stuck() == [release.pk]
    assert "queued again" in release.events.filter(state="queued").last().message
    assert machine.releases_stuck() == []  # a second tick finds nothing to requeue
    machine.release_dispatch_run(release_id=release.pk)
    release.refresh_from_db()
    assert (release.state, release.workflow_run_id) == ("workflow", first_run)


def test_github_down_is_retried_then_failed_with_reason(
    shop, arm_fault, django_capture_on_commit_callbacks, settings
):
    arm_fault("github", path=f"/repos/{REPO}/actions", kind="error", status=503)
    with django_capture_on_commit_callbacks(execute=False):
        release = release_start(
            actor=shop["owner"],
            component=shop["component"],
            environment=shop["envs"]["staging"],
            version="1.0.0",
        )
    with pytest.raises(IntegrationError) as raised:
        machine.release_dispatch_run(release_id=release.pk)
    assert raised.value.transient
    release.refresh_from_db()
    assert release.state == "queued" and "Retrying" in release.last_error
    machine.release_dispatch_give_up(release_id=release.pk, error=raised.value.message)
    release.refresh_from_db()
    assert release.state == "failed" and "Try again when GitHub is back" in release.last_error


def test_canary_pauses_and_abort_leaves_it_explained(shop, django_capture_on_commit_callbacks):
    release = start(shop, "staging", django_capture_on_commit_callbacks, strategy="canary")
    follow(release, {"paused"})
    assert (release.set_weight, release.current_step) == (5, 0)
    assert release.next_step_weight == 25
    with django_capture_on_commit_callbacks(execute=True):
        release_abort(actor=shop["owner"], release=release, reason="error rate up")
    app = wait_until(
        lambda: (a := argocd_client().application_get(f"{SERVICE}-staging")).rollout.aborted and a
    )
    assert app.health_status == "Degraded"
    release.refresh_from_db()
    assert release.state == "aborted" and "stable version" in release.status_message
    machine.release_poll_run(release_id=release.pk)  # a late poll changes nothing
    release.refresh_from_db()
    assert release.state == "aborted"


@pytest.mark.django_db(transaction=True)
def test_canary_to_production_waits_for_a_colleagues_approval(
    shop, live_server, release_sandbox, settings, django_capture_on_commit_callbacks
):
    from sandbox.switchyard import sandbox_machine_credentials

    settings.SITE_URL = live_server.url
    ApprovalPolicy.objects.create(environment=shop["envs"]["prod"], default_ttl_minutes=30)
    release_sandbox.state.shared["switchyard_machine"] = sandbox_machine_credentials()
    release = start(shop, "prod", django_capture_on_commit_callbacks, strategy="canary")
    follow(release, {"paused"})
    approval = wait_until(lambda: ApprovalRequest.objects.filter(release=release).first())
    assert approval.requested_by == shop["owner"] and approval.weight == 5
    # The first release through Switchyard still knows what ran before: Argo CD said so.
    release.refresh_from_db()
    assert release.previous_version not in ("", release.version)
    assert approval.from_version == release.previous_version
    with pytest.raises(PermissionDenied):
        approval_decide(actor=shop["owner"], approval=approval, decision="approve")
    approval_decide(
        actor=shop["colleague"], approval=approval, decision="approve", comment="error rates flat"
    )
    approval.refresh_from_db()
    assert (approval.state, approval.signal_state) == ("approved", "sent")
    follow(release, {"succeeded"}, timeout=40)
    run = github_client().workflow_run_get(REPO, release.workflow_run_id)
    wait_until(lambda: github_client().workflow_run_get(REPO, release.workflow_run_id).succeeded)
    assert run.display_title.endswith(f"(release {release.pk})")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"release.start", "approval.create", "approval.decide"} <= actions


def test_error_rates_show_the_bad_canary_climbing(
    shop, release_sandbox, client, django_capture_on_commit_callbacks
):
    import requests

    release = start(shop, "prod", django_capture_on_commit_callbacks, strategy="canary")
    follow(release, {"paused"})  # 5% of the traffic on the new version, the rest on stable
    requests.post(
        f"{release_sandbox.endpoints['prometheus']}/sandbox/bad-version",
        json={"service": SERVICE, "version": release.version},
        timeout=5,
    ).raise_for_status()
    client.force_login(shop["colleague"])
    html = client.get(f"/releases/{release.pk}/errors/").content.decode()
    assert f"{release.version} (new)" in html
    assert f"{release.previous_version} (stable)" in html
    assert html.count("<polyline") == 2


def test_error_rates_say_when_prometheus_is_down(shop, client, settings):
    settings.INTEGRATION_URLS = {**settings.INTEGRATION_URLS, "prometheus": "http://127.0.0.1:9"}
    release = Release.objects.create(
        component=shop["component"],
        environment=shop["envs"]["prod"],
        version="9.9.9",
        state="paused",
        requested_by=shop["owner"],
    )
    client.force_login(shop["colleague"])
    html = client.get(f"/releases/{release.pk}/errors/").content.decode()
    assert "error rates are unknown" in html


# ---- a dispatch whose answer was lost is never sent twice -----------------------------------

DISPATCHES = f"/repos/{REPO}/actions/workflows/deploy.yml/dispatches"


def queued(shop, capture):
    with capture(execute=False):  # the test plays the dispatch task (and its retries) itself
        return release_start(
            actor=shop["owner"], component=shop["component"],
            environment=shop["envs"]["staging"], version=newest_version(),
        )  # fmt: skip


def runs_of(release) -> list:
    repo = github_client()._repo(REPO)
    return [r for r in repo.get_workflow_runs() if f"(release {release.pk})" in r.display_title]


def test_dispatch_timeout_makes_one_run_not_two(
    shop, arm_fault, django_capture_on_commit_callbacks
):
    # GitHub holds the dispatch past the client's 5 s timeout, then starts the run anyway.
    arm_fault("github", path=DISPATCHES, method="POST", kind="timeout", seconds=7, count=1)
    release = queued(shop, django_capture_on_commit_callbacks)
    with pytest.raises(IntegrationError, match="timed out") as raised:
        machine.release_dispatch_run(release_id=release.pk)
    assert raised.value.transient and raised.value.delivered is None
    release.refresh_from_db()
    assert release.state == "queued" and release.dispatch_sent_at is not None
    # The retry comes before the run appears: it waits for it instead of dispatching again.
    with pytest.raises(IntegrationError, match="instead of dispatching again"):
        machine.release_dispatch_run(release_id=release.pk)
    wait_until(lambda: runs_of(release), timeout=10, interval=0.2)
    machine.release_dispatch_run(release_id=release.pk)
    release.refresh_from_db()
    [run] = runs_of(release)
    assert (release.state, release.workflow_run_id) == ("workflow", run.id)
    assert release.events.filter(state="workflow").count() == 1


def test_lost_dispatch_whose_run_never_appears_fails_with_what_to_check(
    shop, arm_fault, django_capture_on_commit_callbacks, settings
):
    settings.GITHUB_DISPATCH_APPEAR_SECONDS = 0  # the run would have appeared by now
    arm_fault("github", path=DISPATCHES, method="POST", kind="error", status=502, count=1)
    release = queued(shop, django_capture_on_commit_callbacks)
    with pytest.raises(IntegrationError):
        machine.release_dispatch_run(release_id=release.pk)
    with pytest.raises(IntegrationError) as raised:
        machine.release_dispatch_run(release_id=release.pk)
    assert not raised.value.transient
    release.refresh_from_db()
    assert release.state == "failed" and "Actions runs" in release.last_error
    assert runs_of(release) == []  # never dispatched a second time


def test_refused_dispatch_is_sent_again(shop, arm_fault, django_capture_on_commit_callbacks):
    # A rate-limit answer means GitHub did not take the dispatch: sending it again is safe.
    arm_fault("github", path=DISPATCHES, method="POST", kind="rate_limit", count=1)
    release = queued(shop, django_capture_on_commit_callbacks)
    with pytest.raises(IntegrationError) as raised:
        machine.release_dispatch_run(release_id=release.pk)
    assert raised.value.delivered is False
    release.refresh_from_db()
    assert release.dispatch_sent_at is None
    machine.release_dispatch_run(release_id=release.pk)
    release.refresh_from_db()
    assert release.state == "workflow" and len(runs_of(release)) == 1
