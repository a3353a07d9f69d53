"""The attacks of issue 12 on the approval gate, each now refused with nothing changed."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, connections
from django.utils import timezone

from approvals.models import ApprovalPolicy, ApprovalRequest, MachineClient
from approvals.services import (
    ApprovalRefused,
    approval_break_glass,
    approval_decide,
    approval_release_promote,
)
from catalog.models import Component, ComponentEnvironment, Team
from deployments.models import Release
from deployments.releases.errors import ReleaseRefused
from deployments.releases.services import release_promote
from portal.errors import PermissionDenied
from portal.models import AuditEvent, TeamMembership

URL = "/api/approvals/"


@pytest.fixture
def colleague(make_user, payments):
    user = make_user("camila")
    TeamMembership.objects.create(user=user, team=payments)
    return user


@pytest.fixture
def paused(ledger, environments, owner):
    ApprovalPolicy.objects.create(environment=environments["prod"])
    return Release.objects.create(
        component=ledger,
        environment=environments["prod"],
        version="v2",
        strategy="canary",
        canary_steps=[5, 25, 50, 100],
        state="paused",
        current_step=0,
        set_weight=5,
        requested_by=owner,
    )


@pytest.fixture
def gate(paused, machine, owner):
    return ApprovalRequest.objects.create(
        component=paused.component,
        environment=paused.environment,
        release=paused,
        client=machine,
        rollout_phase="canary 5% verified",
        weight=5,
        requested_by=owner,
        requester_label=owner.username,
        expires_at=timezone.now() + timedelta(minutes=30),
    )


def body(**extra):
    data = {"service": "ledger", "environment": "prod", "rollout_phase": "canary 5%", "actor": "x"}
    return {**data, **extra}


def test_requester_cannot_promote_past_their_own_gate(owner, paused, gate):
    with pytest.raises(PermissionDenied, match="gated"):
        release_promote(actor=owner, release=paused, full=True)
    with pytest.raises(PermissionDenied, match="You asked for this release"):
        approval_release_promote(actor=owner, release=paused, full=True)
    paused.refresh_from_db()
    gate.refresh_from_db()
    assert (paused.state, gate.state, gate.votes.count()) == ("paused", "pending", 0)
    assert AuditEvent.objects.filter(outcome="denied").count() == 2


def test_promote_on_a_gated_release_is_a_decision_by_someone_else(
    colleague, paused, gate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        approval_release_promote(actor=colleague, release=paused, full=False)
    gate.refresh_from_db()
    assert (gate.state, gate.decision, gate.decided_by) == ("approved", "approve", colleague)
    assert len(callbacks) == 1
    assert AuditEvent.objects.get(action="approval.decide").actor == colleague


def test_superuser_and_platform_admin_are_not_approvers(make_user, gate):
    root = make_user("root", is_superuser=True, is_staff=True)
    admin = make_user("pat")
    admin.groups.add(Group.objects.get_or_create(name="platform-admin")[0])
    for person in (root, admin):
        with pytest.raises(PermissionDenied):
            approval_decide(actor=person, approval=gate, decision="approve")
    gate.refresh_from_db()
    assert gate.state == "pending" and not gate.votes.exists()


def test_a_leads_policy_needs_a_lead(colleague, make_user, payments, gate):
    ApprovalRequest.objects.filter(pk=gate.pk).update(approvers="leads")
    gate.refresh_from_db()
    with pytest.raises(PermissionDenied, match="leads of"):
        approval_decide(actor=colleague, approval=gate, decision="approve")
    lead = make_user("lee")
    TeamMembership.objects.create(user=lead, team=payments, role="lead")
    assert approval_decide(actor=lead, approval=gate, decision="approve").state == "approved"


def test_requester_may_abort_their_own_release(owner, gate):
    assert approval_decide(actor=owner, approval=gate, decision="abort").state == "aborted"


def test_decision_after_the_release_moved_on_changes_nothing_and_sends_nothing(
    colleague, paused, gate, django_capture_on_commit_callbacks
):
    # It paused at 5 % after the request was made, then went on (at 5 %, or to 25 %), or it
    # finished: each has gone past the step.
    paused.events.create(state="paused", message="Paused at 5%")
    for state, weight in (("progressing", 5), ("paused", 25), ("progressing", 25), ("aborted", 5)):
        Release.objects.filter(pk=paused.pk).update(state=state, set_weight=weight)
        with django_capture_on_commit_callbacks() as callbacks:
            with pytest.raises(ApprovalRefused, match="nothing was decided"):
                approval_decide(actor=colleague, approval=gate, decision="approve")
        assert not callbacks
        gate.refresh_from_db()
        assert gate.state == "pending" and not gate.votes.exists()


@pytest.mark.parametrize("state", ["workflow", "syncing", "progressing"])
def test_an_early_decision_is_held_until_the_release_pauses_at_its_step(
    colleague, paused, gate, state, django_capture_on_commit_callbacks, monkeypatch
):
    """The workflow asks as soon as it has committed, before the Rollout pauses: an approval
    given then is recorded and held, and sent only once the release pauses at that step."""
    from approvals import signalling, tasks
    from deployments.releases import transitions

    sent = []
    monkeypatch.setattr(tasks.approval_signal, "delay", lambda pk: sent.append(pk))
    Release.objects.filter(pk=paused.pk).update(state=state, set_weight=None)
    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(actor=colleague, approval=gate, decision="approve")
    gate.refresh_from_db()
    assert (gate.state, gate.signal_state, sent) == ("approved", "held", [])
    assert signalling.approval_signals_unheld() == []  # still on its way: stays held
    with django_capture_on_commit_callbacks(execute=True):
        assert transitions.release_transition(
            release_id=paused.pk,
            from_states=[state],
            to_state="paused",
            message="Paused at 5%",
            set_weight=5,
        )
    gate.refresh_from_db()
    assert (gate.signal_state, sent) == ("pending", [gate.pk])
    assert signalling.approval_signals_unheld() == []  # a second nudge sends nothing twice


def test_a_held_decision_whose_release_ends_elsewhere_is_skipped_with_the_reason(
    colleague, paused, gate
):
    from approvals import signalling

    Release.objects.filter(pk=paused.pk).update(state="progressing", set_weight=None)
    approval_decide(actor=colleague, approval=gate, decision="approve")
    Release.objects.filter(pk=paused.pk).update(state="failed")
    assert signalling.approval_signals_unheld() == []
    gate.refresh_from_db()
    assert gate.signal_state == "skipped" and "never paused at canary 5% verified" in (
        gate.signal_error
    )


def test_late_signal_after_the_release_moved_on_sends_nothing(colleague, paused, gate):
    """Decided while paused, but the release moved before the signal went: nothing is sent."""
    from approvals import signalling

    ApprovalRequest.objects.filter(pk=gate.pk).update(
        state="approved", decision="approve", decided_by=colleague, signal_state="pending"
    )
    Release.objects.filter(pk=paused.pk).update(state="aborted")
    signalling.approval_signal_send(approval_id=gate.pk)  # would raise if it called Argo CD
    gate.refresh_from_db()
    assert gate.signal_state == "skipped" and "nothing was sent" in gate.signal_error
    assert not paused.events.exists()


def test_one_open_approval_per_release_is_a_database_constraint(gate):
    duplicate = ApprovalRequest(
        component=gate.component,
        environment=gate.environment,
        release=gate.release,
        rollout_phase="another phase",
        requester_label="x",
        expires_at=gate.expires_at,
    )
    with pytest.raises(IntegrityError):
        duplicate.save()


def test_second_post_for_a_waiting_release_is_refused(call_api, gate):
    response = call_api("post", URL, body(release_id=gate.release_id))
    assert (
        response.status_code == 422 and "already has an open approval" in response.json()["error"]
    )
    assert ApprovalRequest.objects.count() == 1
    assert AuditEvent.objects.get(action="approval.create").outcome == "denied"


@pytest.fixture
def carol_prod(environments):
    """Another team's service in production, with its own Argo CD application."""
    search = Team.objects.create(name="search-team")
    other = Component.objects.create(name="search-api", owner=search)
    ComponentEnvironment.objects.create(
        component=other, environment=environments["prod"], argocd_application="search-api-prod"
    )
    return other


def test_staging_token_cannot_point_a_decision_at_another_teams_production(
    call_api, machine, ledger, environments, carol_prod
):
    machine.environments.set([environments["staging"]])
    sent = body(environment="staging", signal={"rollout": {"application": "search-api-prod"}})
    response = call_api("post", URL, sent)
    assert response.status_code == 422
    assert "disagrees with the catalog (ledger-staging" in response.json()["error"]
    for other in (body(service="search-api", environment="staging"), body(service="search-api")):
        refused = call_api("post", URL, other)
        assert refused.status_code == 422, refused.content
    assert not ApprovalRequest.objects.exists()
    denied = AuditEvent.objects.filter(action="approval.create", outcome="denied")
    assert denied.count() == 3 and "disagrees" in denied.order_by("pk").first().reason


def test_signal_target_is_derived_from_the_catalog(call_api, machine, ledger):
    created = call_api("post", URL, body(signal={"rollout": {}}))
    assert created.status_code == 201, created.content
    approval = ApprovalRequest.objects.get()
    assert approval.signal == {"rollout": {"application": "ledger-prod"}}


def test_namespace_of_a_service_reference_is_honoured(call_api, machine, ledger, environments):
    billing = Component.objects.create(name="ledger", metadata_namespace="billing")
    ComponentEnvironment.objects.create(component=billing, environment=environments["prod"])
    assert call_api("post", URL, body(service="ledger")).status_code == 422  # ambiguous
    response = call_api("post", URL, body(service="component:default/ledger"))
    assert response.status_code == 201, response.content
    assert ApprovalRequest.objects.get().component == ledger
    refused = call_api("post", URL, body(service="component:billing/ledger"))
    assert (
        refused.status_code == 422
        and "may not ask for approvals for ledger" in refused.json()["error"]
    )


def test_break_glass_is_sre_only_needs_a_reason_and_is_loud(sre, colleague, gate):
    with pytest.raises(PermissionDenied):
        approval_break_glass(actor=colleague, approval=gate, reason="x" * 40)
    with pytest.raises(ApprovalRefused, match="Say why"):
        approval_break_glass(actor=sre, approval=gate, reason="now")
    decided = approval_break_glass(actor=sre, approval=gate, reason="payments down, ship the fix")
    assert (decided.state, decided.decision) == ("approved", "break-glass")
    event = AuditEvent.objects.get(action="approval.break_glass", outcome="done")
    assert event.reason == "payments down, ship the fix" and event.actor == sre


def test_the_approval_page_says_a_gate_was_broken_not_approved(client, sre, colleague, gate):
    approval_break_glass(actor=sre, approval=gate, reason="payments down, ship the fix")
    client.force_login(colleague)
    page = client.get(gate.get_absolute_url()).content.decode()
    decided = page.split('data-testid="decided">', 1)[1].split("</p>", 1)[0]
    assert "Break-glass override" in decided and "without the quorum" in decided
    assert "Approved" not in decided and "payments down, ship the fix" in decided


def test_decision_redirect_ignores_an_outside_next(client, colleague, gate):
    client.force_login(colleague)
    response = client.post(
        f"/approvals/{gate.pk}/decide/",
        {"decision": "approve", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == gate.get_absolute_url()


def test_machine_client_scope_covers_components(machine, ledger, carol_prod):
    assert machine.may_post_for(ledger) and not machine.may_post_for(carol_prod)
    MachineClient.objects.filter(pk=machine.pk).update(all_components=True)
    machine.refresh_from_db()
    assert machine.may_post_for(carol_prod)


@pytest.mark.django_db(transaction=True)
def test_quorum_votes_are_counted_under_a_row_lock(approval_quorum_world, monkeypatch):
    """Ten eligible people vote at once on a quorum of 2: exactly one decision, never a
    request left pending with enough votes."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent votes need PostgreSQL (set DATABASE_URL)")
    from approvals import tasks

    gate, voters = approval_quorum_world
    monkeypatch.setattr(tasks.approval_signal, "delay", lambda pk: None)
    barrier = threading.Barrier(len(voters))
    outcomes = []

    def vote(user):
        try:
            barrier.wait()
            local = ApprovalRequest.objects.select_related("component", "environment").get(
                pk=gate.pk
            )
            outcomes.append(approval_decide(actor=user, approval=local, decision="approve").state)
        except ApprovalRefused as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=vote, args=(user,)) for user in voters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    gate.refresh_from_db()
    assert gate.state == "approved" and gate.votes.count() == 2
    assert outcomes.count("approved") == 1 and outcomes.count("pending") == 1
    assert AuditEvent.objects.filter(action="approval.decide").count() == 1


@pytest.fixture
def approval_quorum_world(make_user, payments, gate):
    ApprovalRequest.objects.filter(pk=gate.pk).update(quorum=2)
    gate.refresh_from_db()
    voters = []
    for index in range(10):
        user = make_user(f"voter{index}")
        TeamMembership.objects.create(user=user, team=payments)
        voters.append(user)
    return gate, voters


def test_release_promote_refused_reason_names_the_state(colleague, paused, gate):
    Release.objects.filter(pk=paused.pk).update(state="succeeded")
    paused.refresh_from_db()
    with pytest.raises((ApprovalRefused, ReleaseRefused)):
        approval_release_promote(actor=colleague, release=paused, full=True)


def test_beat_resends_an_approved_signal_whose_task_was_lost(colleague, machine, ledger, owner):
    from approvals import tasks

    lost = ApprovalRequest.objects.create(
        component=ledger,
        environment=machine.environments.first(),
        client=machine,
        rollout_phase="canary 5%",
        requester_label="x",
        requested_by=owner,
        state="approved",
        decision="approve",
        decided_by=colleague,
        decided_at=timezone.now() - timedelta(minutes=2),
        signal_state="pending",
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    fresh = ApprovalRequest.objects.filter(pk=lost.pk)
    fresh.update(decided_at=timezone.now())
    tasks.approvals_expire()
    assert fresh.get().signal_state == "pending"  # just decided: its own task may still come
    fresh.update(decided_at=timezone.now() - timedelta(minutes=2))
    tasks.approvals_expire()
    assert fresh.get().signal_state == "sent"


def test_the_inbox_lists_exactly_what_the_rule_lets_each_person_decide(
    make_user, payments, colleague, owner, sre, outsider, machine, ledger, environments
):
    import rules

    from approvals.selectors import approvals_decidable_by

    lead = make_user("lee")
    TeamMembership.objects.create(user=lead, team=payments, role="lead")
    root = make_user("root", is_superuser=True)
    requests = [
        ApprovalRequest.objects.create(
            component=ledger,
            environment=environments["prod"],
            rollout_phase=f"phase {approvers}",
            approvers=approvers,
            requested_by=owner,
            requester_label="olivia",
            expires_at=timezone.now() + timedelta(minutes=30),
        )
        for approvers in ("team", "leads")
    ]
    for person in (colleague, owner, sre, outsider, lead, root):
        listed = set(approvals_decidable_by(person))
        allowed = {
            r for r in requests if rules.has_perm("approvals.decide_approvalrequest", person, r)
        }
        assert listed == allowed, person.username


def test_a_nul_byte_in_a_comment_is_a_message_not_a_500(client, colleague, gate):
    client.force_login(colleague)
    response = client.post(
        f"/approvals/{gate.pk}/decide/", {"decision": "approve", "comment": "ok\x00"}, follow=True
    )
    # Refused at the edge (portal.middleware.OddInputMiddleware) with the reason, before any view.
    assert response.status_code == 400 and "NUL character" in response.content.decode()
    gate.refresh_from_db()
    assert gate.state == "pending" and not gate.votes.exists()


def test_a_request_without_versions_says_so_rather_than_question_marks(client, colleague, gate):
    client.force_login(colleague)
    page = client.get(gate.get_absolute_url()).content.decode()
    versions = page.split('data-testid="approval-versions">', 1)[1].split("·", 1)[0]
    assert "The request gave no versions" in versions and "?" not in versions
    ApprovalRequest.objects.filter(pk=gate.pk).update(from_version="1.4.0", to_version="1.5.0")
    page = client.get(gate.get_absolute_url()).content.decode()
    assert "1.4.0 → <strong>1.5.0</strong>" in page
    inbox = client.get("/approvals/").content.decode()
    assert "1.4.0 → 1.5.0" in inbox and "? → ?" not in inbox
