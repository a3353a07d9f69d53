"""Analysis gates end to end against the sandbox: the canary's numbers come from the Prometheus
sandbox (its bad-version knob makes a version error), the abort and promotion go through the
release machine to Argo CD. Beat's tick is called directly, as in test_release_flow.py."""

from datetime import timedelta

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalPolicy, ApprovalRequest
from approvals.services import ApprovalRefused, approval_decide
from deployments.analysis import services, tasks
from deployments.analysis.evaluate import decide
from deployments.analysis.selectors import analysis_gate_open
from deployments.models import AnalysisPolicy, AnalysisStep, AnalysisVerdict, Release
from integrations.argocd import argocd_client
from integrations.tests.conftest import wait_until
from notifications.models import Notification
from portal.models import AuditEvent

from . import test_release_flow
from .test_release_flow import SERVICE, follow, start

pytestmark = pytest.mark.django_db
shop = test_release_flow.shop  # the release tests' fixture: a team, its service, staging, prod


def policy_for(environment, **extra) -> AnalysisPolicy:
    values = {"min_requests": 1, "interval_seconds": 1, "soak_seconds": 0} | extra
    return AnalysisPolicy.objects.create(environment=environment, **values)


def tick_until(release, capture, check, timeout=20):
    """Run beat's analysis tick (and the release poll) until `check()` is true; what the tick
    schedules on commit (signals to the Rollout) runs too."""

    def once():
        AnalysisStep.objects.filter(release=release).update(next_evaluation_at=timezone.now())
        with capture(execute=True):
            tasks.analysis_tick()
        follow(release, set(Release.State.values))
        return check()

    return wait_until(once, timeout=timeout, interval=0.2)


def mark_bad(sandbox, version: str) -> None:
    requests.post(
        f"{sandbox.endpoints['prometheus']}/sandbox/bad-version",
        json={"service": SERVICE, "version": version},
        timeout=5,
    ).raise_for_status()


def panel_html(client, release) -> str:
    url = reverse("deployments:panel_analysis", args=[release.pk])
    return client.get(url, headers={"HX-Request": "true"}).content.decode()


def test_a_canary_whose_version_errors_is_aborted_with_the_values(
    shop, release_sandbox, client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    policy_for(shop["envs"]["staging"], max_p99_latency_ms=800, soak_seconds=600)
    release = start(shop, "staging", capture, strategy="canary")
    follow(release, {"paused"})
    mark_bad(release_sandbox, release.version)
    tick_until(release, capture, lambda: Release.objects.get(pk=release.pk).state == "aborted")
    verdict = AnalysisVerdict.objects.get(step__release=release, verdict="fail")
    # The first failing evaluation catches the climb: above 5 %, above 3x stable, or slow p99.
    assert verdict.values["canary_error_rate"] > 0.02 and verdict.values["requests"] >= 1
    assert "error rate" in verdict.message or "p99" in verdict.message
    event = release.events.get(state="aborted")
    assert event.message.startswith("machine:analysis aborted: analysis failed at 5%")
    assert event.data["evidence"]["canary_error_rate"] == verdict.values["canary_error_rate"]
    audit = AuditEvent.objects.get(action="release.abort")
    assert audit.actor is None and audit.actor_label == "machine:analysis"
    assert audit.after["canary_error_rate"] == verdict.values["canary_error_rate"]
    wait_until(lambda: argocd_client().application_get(f"{SERVICE}-staging").rollout.aborted)
    told = Notification.objects.filter(event="release.aborted", channel="portal")
    assert {n.user for n in told} == {shop["owner"], shop["colleague"]}  # the owning team
    body = told.first().body
    assert "machine:analysis aborted: analysis failed at 5%" in body
    assert f"canary_error_rate {verdict.values['canary_error_rate']:.4g}" in body
    client.force_login(shop["colleague"])
    html = panel_html(client, release)
    assert "Fail" in html and "Canary errors" in html and f"{verdict.values['requests']}" in html
    assert 'class="analysis-dot-fail"' in html


@pytest.mark.django_db(transaction=True)
def test_a_healthy_canary_soaks_passes_and_waits_for_the_approval(
    shop, client, live_server, release_sandbox, settings, django_capture_on_commit_callbacks
):
    from sandbox.switchyard import sandbox_machine_credentials

    settings.SITE_URL = live_server.url  # the workflow posts its approval request here
    release_sandbox.state.shared["switchyard_machine"] = sandbox_machine_credentials()
    prod = shop["envs"]["prod"]
    ApprovalPolicy.objects.create(environment=prod, default_ttl_minutes=30)
    policy_for(prod, soak_seconds=5, max_p99_latency_ms=800)
    capture = django_capture_on_commit_callbacks
    release = start(shop, "prod", capture, strategy="canary")
    follow(release, {"paused"})
    tick_until(
        release, capture, lambda: AnalysisVerdict.objects.filter(step__release=release).exists()
    )
    step = AnalysisStep.objects.get(release=release)
    client.force_login(shop["colleague"])
    html = panel_html(client, release)
    assert step.outcome == "analysing"  # soaking: a countdown, and no approval yet
    assert "soak" in html and "s left" in html
    assert "left before the approval is offered" in html
    assert analysis_gate_open(release)[0] is False
    approval = wait_until(lambda: ApprovalRequest.objects.filter(release=release).first())
    assert_approving_is_refused_while_soaking(client, approval, release, shop["colleague"])
    tick_until(release, capture, lambda: AnalysisStep.objects.get(pk=step.pk).outcome == "passed")
    verdict = AnalysisVerdict.objects.filter(step=step).last()
    assert verdict.verdict == "pass" and verdict.values["p99_ms"] < 800
    release.refresh_from_db()
    assert release.state == "paused" and release.current_step == 0  # approvers decide
    assert analysis_gate_open(release) == (True, "")
    assert not AuditEvent.objects.filter(actor_label="machine:analysis").exists()
    assert "Pass" in panel_html(client, release)
    assert ApprovalRequest.objects.get(release=release).state == "pending"
    page = client.get(approval.get_absolute_url()).content.decode()
    assert 'value="approve"' in page and 'data-testid="approval-soak"' not in page


def assert_approving_is_refused_while_soaking(client, approval, release, colleague):
    """While the step soaks: the approval page shows the countdown instead of Approve, the
    release page holds Promote with it, and a decision is refused with the reason."""
    page = client.get(approval.get_absolute_url()).content.decode()
    assert 'data-testid="approval-soak"' in page and "s left before the approval" in page
    assert 'value="approve"' not in page and 'value="abort"' in page  # abort stays
    status = client.get(release.get_absolute_url(), headers={"HX-Request": "true"})
    assert 'data-testid="release-soak"' in status.content.decode()
    for decision in ("approve", "promote-full"):
        with pytest.raises(ApprovalRefused, match="Not yet: Soaking: .* s left"):
            approval_decide(actor=colleague, approval=approval, decision=decision)
    approval.refresh_from_db()
    assert approval.state == "pending" and not approval.votes.exists()
    assert not AuditEvent.objects.filter(action__in=["approval.decide", "approval.vote"]).exists()


def test_a_healthy_canary_without_approvals_goes_on_after_its_soak(
    shop, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    policy_for(shop["envs"]["staging"], soak_seconds=1)
    release = start(shop, "staging", capture, strategy="canary")
    follow(release, {"paused"})
    tick_until(release, capture, lambda: Release.objects.get(pk=release.pk).current_step == 1)
    assert AnalysisStep.objects.get(release=release, step=0).outcome == "passed"
    promote = AuditEvent.objects.get(action="release.promote")
    assert promote.actor_label == "machine:analysis"
    assert release.events.filter(message__contains="5% soaked and passed").count() == 1


def test_prometheus_unreachable_is_inconclusive_never_pass(
    shop, arm_fault, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    policy_for(shop["envs"]["staging"])
    release = start(shop, "staging", capture, strategy="canary")
    follow(release, {"paused"})
    arm_fault("prometheus", path="/api/v1/query", kind="error", status=503)
    for _ in range(3):
        tick_until(release, capture, lambda: True)
    verdicts = list(AnalysisVerdict.objects.filter(step__release=release))
    assert verdicts and {v.verdict for v in verdicts} == {"inconclusive"}
    assert "inconclusive (no data since" in verdicts[-1].message
    assert AnalysisStep.objects.get(release=release).outcome == "analysing"
    release.refresh_from_db()
    assert release.state == "paused" and release.current_step == 0


def test_a_duplicate_or_late_evaluation_changes_nothing(shop, django_capture_on_commit_callbacks):
    policy_for(shop["envs"]["staging"], soak_seconds=600)
    release = start(shop, "staging", django_capture_on_commit_callbacks, strategy="canary")
    follow(release, {"paused"})
    services.analysis_steps_open()
    claimed = services.analysis_steps_due()
    assert len(claimed) == 1 and services.analysis_steps_due() == []  # claimed once
    step_id, slot = claimed[0]
    assert services.analysis_step_evaluate(step_id=step_id, slot=slot) is not None
    assert services.analysis_step_evaluate(step_id=step_id, slot=slot) is None
    assert AnalysisVerdict.objects.filter(step_id=step_id).count() == 1


def _policy(**extra):
    values = {"max_error_rate": 0.05, "max_error_rate_vs_stable": 3.0, "min_requests": 100}
    return AnalysisPolicy(**(values | extra))


def test_too_few_requests_is_inconclusive_even_when_errors_are_high():
    values = {"canary_error_rate": 0.5, "stable_error_rate": 0.01, "requests": 20}
    decision = decide(values, _policy(), no_data_since=timezone.now())
    assert decision.verdict == "inconclusive" and "20 of 100 requests" in decision.message


def test_relative_threshold_fails_above_the_noise_floor_only():
    now = timezone.now()
    noisy = {"canary_error_rate": 0.008, "stable_error_rate": 0.002, "requests": 500}
    assert decide(noisy, _policy(), no_data_since=now).verdict == "pass"
    worse = {"canary_error_rate": 0.04, "stable_error_rate": 0.005, "requests": 500}
    decision = decide(worse, _policy(), no_data_since=now)
    assert decision.verdict == "fail" and "3× stable" in decision.message


def test_p99_above_the_threshold_fails_and_missing_p99_is_inconclusive():
    now = timezone.now()
    base = {"canary_error_rate": 0.001, "stable_error_rate": 0.001, "requests": 500}
    policy = _policy(max_p99_latency_ms=300)
    assert decide(base | {"p99_ms": 450.0}, policy, no_data_since=now).verdict == "fail"
    missing = decide(base | {"p99_ms": None}, policy, no_data_since=now)
    assert missing.verdict == "inconclusive" and "no data since" in missing.message


def test_no_series_for_the_canary_is_inconclusive():
    since = timezone.now() - timedelta(minutes=3)
    values = {"canary_error_rate": None, "requests": None}
    decision = decide(values, _policy(), no_data_since=since)
    assert decision.verdict == "inconclusive"
    assert decision.message.startswith("inconclusive (no data since")


def test_an_abort_refused_while_argo_cd_is_down_is_retried_by_the_next_tick(
    shop, release_sandbox, arm_fault, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    policy_for(shop["envs"]["staging"], soak_seconds=600)
    release = start(shop, "staging", capture, strategy="canary")
    follow(release, {"paused"})
    mark_bad(release_sandbox, release.version)
    Release.objects.filter(pk=release.pk).update(observed_at=None)  # must be read again
    arm_fault("argocd", path="/api/v1/applications", kind="error", status=503, count=1)
    services.analysis_steps_open()
    wait_until(lambda: _evaluate_once(release), timeout=20, interval=0.2)
    release.refresh_from_db()
    assert release.state == "paused"  # Argo CD could not be read: the abort was refused
    with capture(execute=True):
        assert services.analysis_aborts_retry() == 1
    release.refresh_from_db()
    assert (
        release.state == "aborted"
        and release.events.filter(message__startswith="machine:analysis aborted").count() == 1
    )
    assert services.analysis_aborts_retry() == 0


def _evaluate_once(release) -> bool:
    """One evaluation of the release's open step; True once it failed."""
    AnalysisStep.objects.filter(release=release).update(next_evaluation_at=timezone.now())
    for step_id, slot in services.analysis_steps_due():
        services.analysis_step_evaluate(step_id=step_id, slot=slot)
    return AnalysisStep.objects.filter(release=release, outcome="failed").exists()


def _paused_canary(shop, env="prod") -> Release:
    return Release.objects.create(
        component=shop["component"],
        environment=shop["envs"][env],
        version="v2.0.0",
        previous_version="v1.9.0",
        strategy=Release.Strategy.CANARY,
        canary_steps=[5, 25, 100],
        state=Release.State.PAUSED,
        requested_by=shop["owner"],
        current_step=0,
        set_weight=5,
        actual_weight=5,
    )


def test_the_gate_counts_down_while_soaking_and_an_inconclusive_analysis_after_it_is_a_persons(
    shop,
):
    policy_for(shop["envs"]["prod"], soak_seconds=300)
    release = _paused_canary(shop)
    assert analysis_gate_open(release) == (False, "The analysis of this step has not started yet.")
    services.analysis_steps_open()
    gate_open, why = analysis_gate_open(release)
    assert not gate_open and why.startswith("Soaking: ") and "s left before the approval" in why
    step = AnalysisStep.objects.get(release=release)
    AnalysisStep.objects.filter(pk=step.pk).update(soak_ends_at=timezone.now())
    AnalysisVerdict.objects.create(step=step, slot=1, verdict="inconclusive", message="no data")
    assert analysis_gate_open(release) == (
        True,
        "The soak is over but the analysis could not decide: you decide.",
    )


def test_without_approvals_a_persons_promote_waits_for_the_soak_too(shop, client):
    """One gate for every door: where no approval policy applies, Promote is held while the
    step soaks (page and service), as Approve is in gated environments; abort never is."""
    from deployments.releases.errors import ReleaseRefused
    from deployments.releases.services import release_promote

    policy_for(shop["envs"]["staging"], soak_seconds=300)
    release = _paused_canary(shop, env="staging")
    services.analysis_steps_open()
    with pytest.raises(ReleaseRefused, match=r"Not yet: Soaking: \d+ s left before it may be"):
        release_promote(actor=shop["owner"], release=release)
    release.refresh_from_db()
    assert (release.state, release.current_step) == ("paused", 0)
    assert not AuditEvent.objects.filter(action="release.promote").exists()
    client.force_login(shop["owner"])
    page = client.get(release.get_absolute_url()).content.decode()
    assert 'data-testid="release-soak"' in page and "before it may be promoted" in page
    # Soaked with no verdict it could trust: the person decides now.
    step = AnalysisStep.objects.get(release=release)
    AnalysisStep.objects.filter(pk=step.pk).update(soak_ends_at=timezone.now())
    AnalysisVerdict.objects.create(step=step, slot=1, verdict="inconclusive", message="no data")
    assert analysis_gate_open(release, offered="it may be promoted")[0] is True
