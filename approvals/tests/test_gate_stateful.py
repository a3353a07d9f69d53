"""A Hypothesis state machine over the release and approval services: random interleavings of
start (a gated canary paused at its first step, its workflow asking for an approval), decisions
by every persona, promote (through the approval and through the plain release route), abort,
expiry, duplicate and late signal-task deliveries, signal failures (no Argo CD is reachable in
this world, so every Rollout signal fails) and beat ticks.

Invariants:
- traffic never passes a gated pause without a quorum of distinct eligible people, none of them
  the requester;
- at most one decision per approval, and each decision / expiry audited exactly once;
- after a beat tick nothing decided is left without a shown outcome: every signal that is not
  sent carries the reason.
"""

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from approvals import signalling, tasks
from approvals.models import ApprovalPolicy, ApprovalRequest, MachineClient
from approvals.services import (
    ApprovalRefused,
    approval_create,
    approval_decide,
    approval_expire_due,
    approval_release_promote,
)
from catalog.models import Component, ComponentEnvironment, Environment, Team
from deployments.models import Release
from deployments.releases.errors import ReleaseRefused
from deployments.releases.services import release_abort, release_promote
from portal.errors import PermissionDenied, PortalError
from portal.models import AuditEvent, TeamMembership

PERSONAS = (
    "requester",
    "member",
    "member2",
    "lead",
    "sre",
    "platform_admin",
    "superuser",
    "pm",
    "outsider",
)
ELIGIBLE = {"member", "member2", "lead", "sre"}
_worlds = itertools.count()


class GateMachine(RuleBasedStateMachine):
    releases = Bundle("releases")

    def __init__(self):
        super().__init__()
        n = next(_worlds)
        team = Team.objects.create(name=f"payments-{n}")
        other = Team.objects.create(name=f"search-{n}")
        self.component = Component.objects.create(name=f"ledger-{n}", owner=team)
        self.prod = Environment.objects.create(name=f"prod-{n}", is_production=True)
        ComponentEnvironment.objects.create(component=self.component, environment=self.prod)
        self.quorum = 1 + n % 2  # worlds alternate between quorum 1 and 2
        ApprovalPolicy.objects.create(environment=self.prod, quorum=self.quorum)
        self.client = MachineClient.objects.create(
            name=f"wf-{n}", token_sha256=f"{n:064d}", signing_secret="x"
        )
        self.client.environments.add(self.prod)
        self.client.components.add(self.component)
        self.users = {}
        for persona in PERSONAS:
            self.users[persona] = get_user_model().objects.create_user(f"{persona}-{n}")
        for persona, team_, role in (
            ("requester", team, "member"),
            ("member", team, "member"),
            ("member2", team, "member"),
            ("lead", team, "lead"),
            ("outsider", other, "member"),
        ):
            TeamMembership.objects.create(user=self.users[persona], team=team_, role=role)
        for persona, group in (
            ("sre", "sre"),
            ("platform_admin", "platform-admin"),
            ("pm", "viewer"),
        ):
            self.users[persona].groups.add(Group.objects.get_or_create(name=group)[0])
        root = self.users["superuser"]
        root.is_superuser = root.is_staff = True
        root.save()
        self.eligible_ids = {self.users[p].pk for p in ELIGIBLE}

    # -- rules -----------------------------------------------------------------------------

    @rule(target=releases)
    def start(self):
        """A gated canary reaches its first pause and its workflow asks for an approval."""
        active = Release.objects.filter(
            component=self.component, environment=self.prod, state__in=Release.ACTIVE_STATES
        ).first()
        release = active or Release.objects.create(
            component=self.component,
            environment=self.prod,
            version="v2",
            strategy="canary",
            canary_steps=[5, 25, 50, 100],
            state="paused",
            current_step=0,
            set_weight=5,
            requested_by=self.users["requester"],
        )
        data = {
            "service": self.component.name,
            "environment": self.prod.name,
            "rollout_phase": "canary 5% verified",
            "actor": self.users["requester"].username,
            "release_id": release.pk,
            "weight": 5,
        }
        try:
            approval_create(client=self.client, data=data)
        except ApprovalRefused:
            pass  # a second request for a release that already waits, or a finished release
        return release.pk

    @rule(
        release_id=releases,
        persona=st.sampled_from(PERSONAS),
        decision=st.sampled_from(["approve", "approve", "promote-full", "abort"]),
        deliver_now=st.booleans(),
    )
    def decide(self, release_id, persona, decision, deliver_now):
        for approval in ApprovalRequest.objects.filter(release_id=release_id):
            try:
                approval_decide(actor=self.users[persona], approval=approval, decision=decision)
            except (PermissionDenied, ApprovalRefused):
                continue
            if deliver_now:  # the task the decision scheduled on commit, arriving at once
                self.signal_task_delivered(release_id)

    @rule(release_id=releases, persona=st.sampled_from(PERSONAS), full=st.booleans())
    def promote(self, release_id, persona, full):
        release = Release.objects.select_related("component", "environment").get(pk=release_id)
        for promote in (approval_release_promote, release_promote):
            try:
                promote(actor=self.users[persona], release=release, full=full)
            except (PermissionDenied, PortalError):
                pass

    @rule(release_id=releases, persona=st.sampled_from(PERSONAS))
    def abort(self, release_id, persona):
        release = Release.objects.select_related("component", "environment").get(pk=release_id)
        try:
            release_abort(actor=self.users[persona], release=release, reason="stop it")
        except (PermissionDenied, ReleaseRefused):
            pass

    @rule(release_id=releases)
    def signal_task_delivered(self, release_id):
        """The decision's task arrives: once, twice, or late after the release moved on."""
        for approval in ApprovalRequest.objects.filter(release_id=release_id):
            try:
                signalling.approval_signal_send(approval_id=approval.pk)
            except Exception as exc:  # noqa: BLE001 - the IntegrationError the task retries
                signalling.approval_signal_give_up(approval_id=approval.pk, error=str(exc))

    @rule(release_id=releases, hours=st.integers(min_value=0, max_value=3))
    def time_passes(self, release_id, hours):
        """Sometimes past the expiry (the approval's TTL here is an hour)."""
        if hours < 2:
            return
        self._expire(release_id)

    def _expire(self, release_id):
        ApprovalRequest.objects.filter(release_id=release_id, state="pending").update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        approval_expire_due()

    @rule()
    def beat_tick(self):
        ApprovalRequest.objects.filter(signal_state="pending").update(
            decided_at=timezone.now() - timedelta(minutes=2)
        )
        tasks.approvals_expire()
        self._after_beat()

    @rule(release_id=releases)
    def rollout_moves_on(self, release_id):
        """Argo CD reports the next pause (a timed one) after a promotion went through."""
        Release.objects.filter(pk=release_id, state="progressing").update(
            state="paused", set_weight=25, current_step=1
        )

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def no_traffic_past_a_gate_without_quorum(self):
        for release in Release.objects.filter(component=self.component):
            passed = release.events.filter(state="progressing").exists()
            if not passed:
                continue
            approved = ApprovalRequest.objects.filter(release=release, state="approved").first()
            assert approved is not None, f"release {release.pk} passed its gate unapproved"
            voters = set(approved.votes.values_list("user_id", flat=True))
            requester = self.users["requester"].pk
            assert requester not in voters and approved.decided_by_id != requester
            assert voters <= self.eligible_ids
            assert len(voters) >= approved.quorum == self.quorum

    @invariant()
    def one_decision_per_approval_audited_once(self):
        for approval in ApprovalRequest.objects.filter(component=self.component):
            events = AuditEvent.objects.filter(
                target_type="approvals.approvalrequest", target_id=str(approval.pk)
            )
            decisions = events.filter(
                action__in=["approval.decide", "approval.expire"], outcome="done"
            )
            closed = approval.state != "pending"
            assert decisions.count() == (1 if closed else 0), (approval.state, decisions.count())

    def _after_beat(self):
        for approval in ApprovalRequest.objects.filter(component=self.component):
            if approval.signal_state in ("failed", "gave-up", "skipped"):
                assert approval.signal_error, f"approval {approval.pk}: no reason shown"
            assert approval.signal_state != "pending" or approval.state == "pending"


def test_the_gate_holds_under_random_interleavings(db, settings_override):
    run_state_machine_as_test(
        GateMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )


@pytest.fixture
def settings_override(settings):
    settings.INTEGRATION_URLS = {}  # no Argo CD or GitHub: every Rollout signal fails
    return settings
