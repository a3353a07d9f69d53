"""Decisions reach the waiting side, against the sandbox: GitHub environment protection
(pending deployments of a workflow run), Argo Rollouts through Argo CD, and a paused release.

Nothing of ours is mocked: the workflow runs in the GitHub sandbox, the Rollout in the Argo CD
sandbox, and the signal goes through the adapters.
"""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from approvals import signalling, tasks
from approvals.models import ApprovalRequest
from approvals.services import approval_decide, approval_expire_due
from catalog.models import Component, ComponentEnvironment
from deployments.releases import machine
from deployments.releases.services import release_start
from integrations.argocd import argocd_client
from integrations.errors import IntegrationError
from integrations.github import github_client
from integrations.tests.conftest import wait_until
from portal.models import AuditEvent, TeamMembership
from sandbox.demo import demo_service_names

SERVICE = demo_service_names(8)[0]
REPO = f"example/{SERVICE}"


@pytest.fixture
def service(release_sandbox, payments, environments):
    component = Component.objects.create(
        name=SERVICE, owner=payments, repository=f"https://github.com/{REPO}"
    )
    for env in environments.values():
        ComponentEnvironment.objects.create(
            component=component, environment=env, argocd_application=f"{SERVICE}-{env.name}"
        )
    return component


@pytest.fixture
def colleague(make_user, payments):
    user = make_user("camila")
    TeamMembership.objects.create(user=user, team=payments)
    return user


@pytest.fixture
def github(release_sandbox):
    """The GitHub sandbox's own view of the repository (runs, reviews, deployments)."""
    return release_sandbox.state.shared["github"]


def newest_version() -> str:
    return github_client().versions_list(REPO)[0].name


def protected_run(release_sandbox, environment="prod") -> int:
    """A deploy run that waits at a protected environment for a review; returns its id."""
    requests.put(
        f"{release_sandbox.endpoints['github']}/sandbox/repos/{REPO}/environments/{environment}",
        json={"required_reviewers": True},
        timeout=5,
    ).raise_for_status()
    run_id = github_client().workflow_dispatch(
        REPO,
        "deploy.yml",
        "main",
        {
            "service": SERVICE,
            "environment": environment,
            "version": newest_version(),
            "release_id": "1",
        },
    )
    wait_until(lambda: github_client().pending_deployments_list(REPO, run_id))
    return run_id


def sandbox_run(github, run_id):
    return next(run for run in github.repo_get("example", SERVICE).runs if run.id == run_id)


def run_deployments(github, run_id) -> list[dict]:
    """Deployments the sandbox created for the run: one per review posted, at most."""
    repo = github.repo_get("example", SERVICE)
    run = sandbox_run(github, run_id)
    return [d for d in repo.deployments if run.deployment and d["id"] == run.deployment["id"]]


def make_approval(service, environments, owner, **extra) -> ApprovalRequest:
    fields = {
        "component": service,
        "environment": environments["prod"],
        "rollout_phase": "canary 5% verified",
        "requested_by": owner,
        "requester_label": owner.get_username(),
        "expires_at": timezone.now() + timedelta(minutes=30),
    }
    fields.update(extra)
    return ApprovalRequest.objects.create(**fields)


def decide(capture, actor, approval, decision, *, execute=True):
    with capture(execute=execute):
        return approval_decide(
            actor=actor, approval=approval, decision=decision, comment="error rates flat"
        )


# ---- GitHub environment protection ---------------------------------------------------------


def test_approval_resumes_the_run_waiting_at_a_protected_environment(
    release_sandbox,
    github,
    service,
    environments,
    owner,
    colleague,
    django_capture_on_commit_callbacks,
):
    run_id = protected_run(release_sandbox)
    approval = make_approval(
        service, environments, owner, signal={"github": {"repo": REPO, "run_id": run_id}}
    )
    decide(django_capture_on_commit_callbacks, colleague, approval, "approve")
    approval.refresh_from_db()
    assert (approval.state, approval.signal_state, approval.signal_attempts) == (
        "approved",
        "sent",
        1,
    )
    run = wait_until(lambda: (r := github_client().workflow_run_get(REPO, run_id)).completed and r)
    assert run.succeeded
    review = sandbox_run(github, run_id).review
    assert review == {"state": "approved", "comment": "Approved in Switchyard by camila"}
    assert len(run_deployments(github, run_id)) == 1


def test_abort_rejects_the_review_and_the_run_fails(
    release_sandbox,
    github,
    service,
    environments,
    owner,
    colleague,
    django_capture_on_commit_callbacks,
):
    run_id = protected_run(release_sandbox)
    approval = make_approval(
        service, environments, owner, signal={"github": {"repo": REPO, "run_id": run_id}}
    )
    decide(django_capture_on_commit_callbacks, colleague, approval, "abort")
    approval.refresh_from_db()
    assert (approval.state, approval.signal_state) == ("aborted", "sent")
    run = wait_until(lambda: (r := github_client().workflow_run_get(REPO, run_id)).completed and r)
    assert run.conclusion == "failure"
    assert sandbox_run(github, run_id).review["state"] == "rejected"
    (deployment,) = run_deployments(github, run_id)
    assert [s["state"] for s in deployment["_statuses"]] == ["failure"]


def test_failed_signal_is_visible_retried_and_sent_once(
    release_sandbox,
    github,
    arm_fault,
    service,
    environments,
    owner,
    colleague,
    client,
    django_capture_on_commit_callbacks,
):
    run_id = protected_run(release_sandbox)
    approval = make_approval(
        service, environments, owner, signal={"github": {"repo": REPO, "run_id": run_id}}
    )
    arm_fault(
        "github",
        path=f"/repos/{REPO}/actions/runs/{run_id}/pending_deployments",
        method="POST",
        status=503,
    )
    # The decision commits; its signal task is queued on commit (run by hand below).
    decide(django_capture_on_commit_callbacks, colleague, approval, "approve", execute=False)

    with pytest.raises(IntegrationError) as raised:
        signalling.approval_signal_send(approval_id=approval.pk)
    assert raised.value.transient  # the task retries it
    approval.refresh_from_db()
    assert (approval.state, approval.signal_state, approval.signal_attempts) == (
        "approved",
        "failed",
        1,
    )
    assert "HTTP 503" in approval.signal_error
    client.force_login(colleague)
    page = client.get(approval.get_absolute_url()).content.decode()
    assert "Failed, retrying" in page and "HTTP 503" in page
    assert sandbox_run(github, run_id).status == "waiting"  # nothing reached GitHub
    assert run_deployments(github, run_id) == []

    requests.delete(f"{release_sandbox.endpoints['github']}/sandbox/faults", timeout=5)
    signalling.approval_signal_send(approval_id=approval.pk)  # the retry
    approval.refresh_from_db()
    assert (approval.signal_state, approval.signal_error, approval.signal_attempts) == (
        "sent",
        "",
        2,
    )
    run = wait_until(lambda: (r := github_client().workflow_run_get(REPO, run_id)).completed and r)
    assert run.succeeded
    assert len(run_deployments(github, run_id)) == 1
    # The decision was made once: one audit event, one state change.
    assert AuditEvent.objects.filter(action="approval.decide").count() == 1


@pytest.fixture
def eager_retries():
    """Eager Celery runs a task's retry at once, as `apply(retries=n + 1)`, instead of queueing
    it with its countdown; without propagation the chain goes on as a worker's deliveries would."""
    from portal.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def test_signal_task_retries_a_transient_failure_until_it_is_sent(
    release_sandbox,
    github,
    arm_fault,
    eager_retries,
    service,
    environments,
    owner,
    colleague,
    django_capture_on_commit_callbacks,
):
    run_id = protected_run(release_sandbox)
    approval = make_approval(
        service, environments, owner, signal={"github": {"repo": REPO, "run_id": run_id}}
    )
    # GitHub answers 503 to the first two reviews; the task's third delivery gets through.
    arm_fault(
        "github",
        path=f"/repos/{REPO}/actions/runs/{run_id}/pending_deployments",
        method="POST",
        status=503,
        count=2,
    )
    decide(django_capture_on_commit_callbacks, colleague, approval, "approve")
    approval.refresh_from_db()
    assert (approval.state, approval.signal_state, approval.signal_attempts) == (
        "approved",
        "sent",
        3,
    )
    wait_until(lambda: github_client().workflow_run_get(REPO, run_id).succeeded)
    assert len(run_deployments(github, run_id)) == 1
    assert AuditEvent.objects.filter(action="approval.decide").count() == 1


def test_signal_task_gives_up_visibly_when_github_stays_down(
    release_sandbox,
    github,
    arm_fault,
    eager_retries,
    service,
    environments,
    owner,
    colleague,
    django_capture_on_commit_callbacks,
):
    run_id = protected_run(release_sandbox)
    approval = make_approval(
        service, environments, owner, signal={"github": {"repo": REPO, "run_id": run_id}}
    )
    arm_fault(
        "github",
        path=f"/repos/{REPO}/actions/runs/{run_id}/pending_deployments",
        method="POST",
        status=503,
    )
    decide(django_capture_on_commit_callbacks, colleague, approval, "approve")
    approval.refresh_from_db()
    assert approval.state == "approved"  # the decision stands
    assert approval.signal_state == "gave-up"
    assert approval.signal_attempts == tasks.approval_signal.max_retries + 1
    assert approval.signal_error.startswith("Gave up:") and "HTTP 503" in approval.signal_error
    assert sandbox_run(github, run_id).status == "waiting"
    # A late duplicate delivery does not resurrect it.
    signalling.approval_signal_send(approval_id=approval.pk)
    approval.refresh_from_db()
    assert approval.signal_state == "gave-up"


def test_duplicate_signal_task_after_sent_does_nothing(
    release_sandbox,
    github,
    service,
    environments,
    owner,
    colleague,
    django_capture_on_commit_callbacks,
):
    run_id = protected_run(release_sandbox)
    approval = make_approval(
        service, environments, owner, signal={"github": {"repo": REPO, "run_id": run_id}}
    )
    decide(django_capture_on_commit_callbacks, colleague, approval, "approve")
    wait_until(lambda: github_client().workflow_run_get(REPO, run_id).completed)
    tasks.approval_signal.delay(approval.pk)  # a second delivery of the same task
    signalling.approval_signal_send(approval_id=approval.pk)
    approval.refresh_from_db()
    assert (approval.signal_state, approval.signal_attempts, approval.signal_error) == (
        "sent",
        1,
        "",
    )
    assert len(run_deployments(github, run_id)) == 1


# ---- Argo Rollouts, without a Switchyard release -------------------------------------------


def paused_rollout(application: str, steps: str = "5,pause,100"):
    """Start a canary outside Switchyard (the workflow alone) and wait for its first pause."""
    environment = application.rsplit("-", 1)[1]
    github_client().workflow_dispatch(
        REPO,
        "deploy.yml",
        "main",
        {
            "service": SERVICE,
            "environment": environment,
            "version": newest_version(),
            "release_id": "2",
            "strategy": "canary",
            "steps": steps,
        },
    )
    return wait_until(
        lambda: (
            (a := argocd_client().application_get(application)).rollout
            and a.rollout.paused
            and any(image.endswith(newest_version()) for image in a.images)  # canary + stable
            and a
        ),
        timeout=30,
    )


@pytest.mark.parametrize("decision", ["approve", "promote-full"])
def test_approval_promotes_the_rollout_through_argocd(
    release_sandbox,
    service,
    environments,
    owner,
    colleague,
    decision,
    django_capture_on_commit_callbacks,
):
    application = f"{SERVICE}-staging"
    app = paused_rollout(application)
    assert app.rollout.set_weight == 5
    approval = make_approval(
        service,
        environments,
        owner,
        environment=environments["staging"],
        signal={"rollout": {"application": application}},
    )
    decide(django_capture_on_commit_callbacks, colleague, approval, decision)
    approval.refresh_from_db()
    assert approval.signal_state == "sent"
    # Health and the Rollout are read in one answer but settle one after the other.
    app = wait_until(
        lambda: (
            (a := argocd_client().application_get(application)).rollout.completed
            and a.health_status == "Healthy"
            and a
        ),
        timeout=30,
    )
    assert not app.rollout.aborted


def test_abort_aborts_the_rollout_through_argocd(
    release_sandbox,
    service,
    environments,
    owner,
    colleague,
    django_capture_on_commit_callbacks,
):
    application = f"{SERVICE}-staging"
    paused_rollout(application)
    approval = make_approval(
        service,
        environments,
        owner,
        environment=environments["staging"],
        signal={"rollout": {"application": application}},
    )
    decide(django_capture_on_commit_callbacks, colleague, approval, "abort")
    approval.refresh_from_db()
    assert (approval.state, approval.signal_state) == ("aborted", "sent")
    app = wait_until(
        lambda: (a := argocd_client().application_get(application)).rollout.aborted and a
    )
    assert app.health_status == "Degraded"


def test_retry_after_a_partial_failure_sends_only_what_is_missing(
    release_sandbox,
    github,
    arm_fault,
    service,
    environments,
    owner,
    colleague,
    django_capture_on_commit_callbacks,
):
    """The Rollout took "resume" and GitHub failed: the retry must not resume the Rollout again
    (that would skip its next pause, which nobody approved), only post the missing review."""
    application = f"{SERVICE}-staging"
    paused_rollout(application, steps="5,pause,25,pause,100")
    run_id = protected_run(release_sandbox)
    approval = make_approval(
        service,
        environments,
        owner,
        signal={
            "rollout": {"application": application},
            "github": {"repo": REPO, "run_id": run_id},
        },
    )
    arm_fault(
        "github",
        path=f"/repos/{REPO}/actions/runs/{run_id}/pending_deployments",
        method="POST",
        status=503,
        count=1,
    )
    decide(django_capture_on_commit_callbacks, colleague, approval, "approve", execute=False)
    with pytest.raises(IntegrationError):
        signalling.approval_signal_send(approval_id=approval.pk)
    app = wait_until(
        lambda: (
            (a := argocd_client().application_get(application)).rollout.paused
            and a.rollout.set_weight == 25
            and a
        )
    )
    signalling.approval_signal_send(approval_id=approval.pk)  # the retry
    approval.refresh_from_db()
    assert (approval.signal_state, approval.signal_attempts) == ("sent", 2)
    wait_until(lambda: github_client().workflow_run_get(REPO, run_id).succeeded)
    assert len(run_deployments(github, run_id)) == 1
    app = argocd_client().application_get(application)
    assert app.rollout.paused and app.rollout.set_weight == 25  # still waiting at its 2nd pause


# ---- Expiry of an approval linked to a paused release ---------------------------------------


def paused_release(service, environments, owner, capture):
    with capture(execute=True):  # the dispatch task runs (eagerly) after commit
        release = release_start(
            actor=owner,
            component=service,
            environment=environments["staging"],
            version=newest_version(),
            strategy="canary",
        )

    def step():
        machine.release_poll_run(release_id=release.pk)
        release.refresh_from_db()
        return release.state == "paused" and release

    return wait_until(step, timeout=30, interval=0.05)


@pytest.mark.parametrize("on_expiry", ["abort", "stay-paused"])
def test_expiry_aborts_the_paused_release_or_leaves_it_paused(
    release_sandbox,
    service,
    environments,
    owner,
    on_expiry,
    django_capture_on_commit_callbacks,
):
    release = paused_release(service, environments, owner, django_capture_on_commit_callbacks)
    approval = make_approval(
        service,
        environments,
        owner,
        environment=environments["staging"],
        release=release,
        on_expiry=on_expiry,
        signal={"rollout": {"application": f"{SERVICE}-staging"}},
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert approval_expire_due() == 1
    approval.refresh_from_db()
    release.refresh_from_db()
    assert approval.state == "expired"
    assert AuditEvent.objects.get(action="approval.expire").after == {"on_expiry": on_expiry}
    application = f"{SERVICE}-staging"
    if on_expiry == "abort":
        assert (approval.signal_state, approval.signal_attempts) == ("sent", 1)
        assert release.state == "aborted"
        assert release.events.get(state="aborted").message == (
            f"Approval #{approval.pk} expired without a decision: aborted"
        )
        assert "back to the stable version" in release.status_message
        app = wait_until(
            lambda: (a := argocd_client().application_get(application)).rollout.aborted and a
        )
        assert app.health_status == "Degraded"
    else:
        assert (approval.signal_state, approval.signal_attempts) == ("none", 0)
        assert release.state == "paused"
        app = argocd_client().application_get(application)
        assert app.rollout.paused and not app.rollout.aborted
    with django_capture_on_commit_callbacks(execute=True):
        assert approval_expire_due() == 0  # the next beat tick has nothing to close
