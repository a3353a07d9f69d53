"""deployments rows of the RBAC matrix (format: portal/tests/rbac_world.py)."""

from django.urls import reverse
from django.utils import timezone

from deployments.models import Release

RELEASERS = {"owner_member", "owner_lead", "sre"}
# Abort is a safety action; promote where no approval policy applies: the requester may too.
RELEASERS_AND_REQUESTER = RELEASERS | {"requester"}


def _gated(setup):
    def gated(w):
        from approvals.models import ApprovalPolicy

        ApprovalPolicy.objects.create(environment=w.production)
        setup(w)

    return gated


def _release(state, **extra):
    def setup(w):
        w.extra["release"] = Release.objects.create(
            component=w.component,
            environment=w.production,
            version="v2.0.0",
            previous_version="v1.9.0",
            strategy="canary",
            canary_steps=[5, 25, 50, 100],
            state=state,
            requested_by=w.users["requester"],
            observed_at=timezone.now(),  # the worker read it just now
            **extra,
        )

    return setup


def _restorable(w):
    """prod ran v1.9.0 (succeeded), then v2.0.0 is a canary in flight: Restore brings v1.9.0."""
    Release.objects.create(
        component=w.component,
        environment=w.production,
        version="v1.9.0",
        state="succeeded",
        finished_at=timezone.now(),
    )
    _release("paused", current_step=0, set_weight=5)(w)


def _url(name):
    return lambda w: reverse(name, args=[w.extra["release"].pk])


RBAC_CASES = [
    {
        "url_name": "deployments:release_start",
        "url": lambda w: reverse("deployments:release_start", args=[w.component.pk]),
        "data": lambda w: {"environment": w.staging.pk, "version": "v1.0.0", "strategy": "rolling"},
        "allowed": RELEASERS,
    },
    {
        "url_name": "deployments:release_promote",
        "url": _url("deployments:release_promote"),
        "setup": _release("paused", current_step=0, set_weight=5),
        "request_scoped": True,
        "allowed": RELEASERS_AND_REQUESTER,
    },
    {
        # Gated (an approval policy applies): promoting is a decision on the approval, through
        # approvals:release_promote; the plain promote refuses everyone.
        "url_name": "deployments:release_promote",
        "url": _url("deployments:release_promote"),
        "setup": _gated(_release("paused", current_step=0, set_weight=5)),
        "request_scoped": True,
        "allowed": set(),
    },
    {
        "url_name": "deployments:release_abort",
        "url": _url("deployments:release_abort"),
        "data": lambda w: {"reason": "error rate climbing"},
        "setup": _gated(_release("paused", current_step=0, set_weight=5)),
        "request_scoped": True,
        "allowed": RELEASERS_AND_REQUESTER,
    },
    {
        "url_name": "deployments:release_rollback",
        "url": _url("deployments:release_rollback"),
        "data": lambda w: {"reason": "v2.0.0 breaks exports"},
        "setup": _release("failed"),
        "allowed": RELEASERS,
    },
]


# -- Knobs within guardrails and runtime tuning (issue 5) -------------------------------------
# The world's cluster is not running here: an allowed person's request is recorded as refused
# ("Kubernetes API unavailable", state changes); a refused one changes nothing.

TUNERS = {"owner_member", "owner_lead", "sre"}


def _guardrails(environment, **knobs):
    def setup(w):
        from deployments.models import ControlPolicy

        w.component.deployments.update(kube_deployment="ledger")
        ControlPolicy.objects.create(environment=getattr(w, environment), **knobs)

    return setup


def _knob_url(name, environment):
    return lambda w: reverse(name, args=[w.component.pk, getattr(w, environment).name])


def _tuning_key(override=False):
    def setup(w):
        from datetime import timedelta

        from django.utils import timezone

        from deployments.models import TuningKey, TuningValue

        key = TuningKey.objects.create(
            component=w.component, key="LOG_SAMPLING_RATE", kind="sampling", default=0.1
        )
        w.extra["key"] = key
        if override:
            until = timezone.now() + timedelta(minutes=30)
            TuningValue.objects.create(
                key=key, environment=w.production, override_value=1.0, override_until=until
            )
            w.extra["until"] = until.isoformat()

    return setup


def _tuning_url(name, environment):
    return lambda w: reverse(name, args=[w.extra["key"].pk, getattr(w, environment).name])


RBAC_CASES += [
    {
        "url_name": "deployments:control_scale",
        "url": _knob_url("deployments:control_scale", "production"),
        "data": lambda w: {"replicas": "3", "reason": "peak", "confirm": "1"},
        "setup": _guardrails(
            "production", replicas_enabled=True, replicas_roles=["owner_team", "sre"]
        ),
        "allowed": {"owner_member", "owner_lead", "sre"},
    },
    {
        # The platform team opened staging scaling to other teams, and not to SREs.
        "url_name": "deployments:control_scale",
        "url": _knob_url("deployments:control_scale", "staging"),
        "data": lambda w: {"replicas": "3", "reason": "load test"},
        "setup": _guardrails(
            "staging", replicas_enabled=True, replicas_roles=["owner_team", "other_teams"]
        ),
        "allowed": {"owner_member", "owner_lead", "other_team_member"},
    },
    {
        "url_name": "deployments:control_hpa",
        "url": _knob_url("deployments:control_hpa", "production"),
        "data": lambda w: {
            "min_replicas": "2",
            "max_replicas": "6",
            "target_cpu_utilization": "70",
            "reason": "sale",
            "confirm": "1",
        },
        "setup": _guardrails("production", hpa_enabled=True, hpa_roles=["sre"]),
        "allowed": {"sre"},
    },
    {
        "url_name": "deployments:control_restart",
        "url": _knob_url("deployments:control_restart", "production"),
        "data": lambda w: {"reason": "stuck pods", "confirm": "1"},
        "setup": _guardrails(
            "production", restart_enabled=True, restart_roles=["owner_lead", "sre"]
        ),
        "allowed": {"owner_lead", "sre"},
    },
    {
        # A knob added through the registry (controls/knobs/cpu_request.py): its one route.
        "url_name": "deployments:control_change",
        "url": lambda w: reverse(
            "deployments:control_change",
            args=[w.component.pk, w.production.name, "cpu_request"],
        ),
        "data": lambda w: {"millicores": "300", "reason": "throttled", "confirm": "1"},
        "setup": _guardrails(
            "production", cpu_request_enabled=True, cpu_request_roles=["owner_team", "sre"]
        ),
        "allowed": {"owner_member", "owner_lead", "sre"},
    },
    {
        "url_name": "deployments:tuning_set",
        "url": _tuning_url("deployments:tuning_set", "production"),
        "data": lambda w: {"value": "0.5", "reason": "debugging"},
        "setup": _tuning_key(),
        "allowed": TUNERS,
    },
    {
        "url_name": "deployments:tuning_override",
        "url": _tuning_url("deployments:tuning_override", "staging"),
        "data": lambda w: {"value": "100%", "minutes": "30", "reason": "incident"},
        "setup": _tuning_key(),
        "allowed": TUNERS,
    },
    {
        "url_name": "deployments:tuning_revert",
        "url": _tuning_url("deployments:tuning_revert", "production"),
        "data": lambda w: {"until": w.extra["until"]},
        "setup": _tuning_key(override=True),
        "allowed": TUNERS,
    },
    {
        "url_name": "deployments:runtime_token_issue",
        "url": lambda w: reverse("deployments:runtime_token_issue", args=[w.component.pk]),
        "allowed": TUNERS,
    },
    {
        "url_name": "deployments:release_restore",
        "url": lambda w: reverse("deployments:release_restore", args=[w.component.pk, "prod"]),
        "data": lambda w: {"reason": "v2.0.0 breaks exports"},
        "setup": _restorable,
        "allowed": RELEASERS,
    },
]


# -- Release trains (issue 17) ----------------------------------------------------------------


def _train(w):
    from catalog.models import Component, ComponentEnvironment
    from deployments.models import Train, TrainService

    reports = Component.objects.create(name="reports", owner=w.owner_team)
    ComponentEnvironment.objects.create(component=reports, environment=w.staging)
    train = Train.objects.create(
        environment=w.staging, title="ledger 2", created_by=w.users["owner_member"]
    )
    TrainService.objects.create(train=train, component=w.component, version="v2.0.0")
    TrainService.objects.create(train=train, component=reports, version="v1.1.0")
    w.extra["train"] = train


def _train_url(name):
    return lambda w: reverse(name, args=[w.extra["train"].pk])


RBAC_CASES += [
    {
        "url_name": "deployments:train_new",
        "url": lambda w: reverse("deployments:train_new"),
        "data": lambda w: {
            "environment": w.staging.pk,
            "title": "ledger 2",
            "services": "ledger v2.0.0",
        },
        "allowed": {"owner_member", "owner_lead", "other_team_member", "sre"},
    },
    {
        "url_name": "deployments:train_move",
        "url": _train_url("deployments:train_move"),
        "setup": _train,
        "data": lambda w: {
            "service": w.extra["train"].services.get(component=w.component).pk,
            "wave": "2",
        },
        # The train's creator (owner_member made it) and SREs: another member of the team
        # (the requester persona) did not plan it.
        "allowed": {"owner_member", "sre"},
        "request_scoped": True,
    },
    {
        "url_name": "deployments:train_start",
        "url": _train_url("deployments:train_start"),
        "setup": _train,
        "allowed": {"owner_member", "sre"},
        "request_scoped": True,
    },
]


def _running_train(w):
    from deployments.models import Train

    _train(w)
    Train.objects.filter(pk=w.extra["train"].pk).update(
        state="running", started_by=w.users["owner_member"]
    )


RBAC_CASES += [
    {
        "url_name": "deployments:train_cancel",
        "url": _train_url("deployments:train_cancel"),
        "setup": _train,
        "data": lambda w: {"reason": "wrong versions"},
        # Before it starts: whoever planned it and SREs.
        "allowed": {"owner_member", "sre"},
        "request_scoped": True,
    },
    {
        "url_name": "deployments:train_cancel",
        "url": _train_url("deployments:train_cancel"),
        "setup": _running_train,
        "data": lambda w: {"reason": "incident"},
        # Running, cancelling is a safety action (abort with restore): the owning teams of its
        # services too, as for aborting a release.
        "allowed": {"owner_member", "owner_lead", "requester", "sre"},
        "request_scoped": True,
    },
]


def _train_part(w):
    """A train planned and started by someone of another team: payments' services wait for
    payments' approval of their part."""
    from deployments.models import Train, TrainApproval

    _train(w)
    starter = w.users["other_team_member"]
    Train.objects.filter(pk=w.extra["train"].pk).update(
        state="running", created_by=starter, started_by=starter
    )
    w.extra["part"] = TrainApproval.objects.create(
        train=w.extra["train"], team=w.owner_team, why="permission"
    )


RBAC_CASES += [
    {
        "url_name": "deployments:train_approval",
        "url": lambda w: reverse(
            "deployments:train_approval", args=[w.extra["train"].pk, w.extra["part"].pk]
        ),
        "setup": _train_part,
        "data": lambda w: {"decision": "approve", "comment": "ours are ready"},
        # The owning team decides its part (and SREs); never the train's starter.
        "allowed": {"owner_member", "owner_lead", "sre"},
    },
]


def _train_part_expired(w):
    """payments' part expired unanswered and the policy (stay-paused) leaves the train waiting."""
    from deployments.models import TrainApproval

    _train_part(w)
    TrainApproval.objects.filter(pk=w.extra["part"].pk).update(
        state="expired", on_expiry="stay-paused"
    )


RBAC_CASES += [
    {
        "url_name": "deployments:train_approval_again",
        "url": lambda w: reverse(
            "deployments:train_approval_again", args=[w.extra["train"].pk, w.extra["part"].pk]
        ),
        "setup": _train_part_expired,
        # Whoever started the train asks again (other_team_member did), and SREs.
        "allowed": {"other_team_member", "sre"},
    },
]
