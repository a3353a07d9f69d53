"""Every write on approvals: created by a workflow, decided by a person, expired by beat."""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog.models import Component, Environment
from deployments.models import Release
from notifications.events import approval_requested_notify
from oncall.gate import incident_gate_check
from portal.audit import AuditContext, audit_record
from portal.errors import PortalError
from portal.models import AuditEvent
from portal.permissions import permission_require

from .models import ApprovalPolicy, ApprovalRequest, ApprovalVote, MachineClient

MAX_TTL = timedelta(hours=24)


class ApprovalRefused(PortalError):
    """The approval cannot be created or decided as asked."""


def _component(ref: str) -> Component:
    """A component by name or entity ref ("component:default/ledger")."""
    name = ref.split("/")[-1].split(":")[-1]
    component = Component.objects.filter(name=name).select_related("owner").first()
    if component is None:
        raise ApprovalRefused(f"unknown service {ref!r}")
    return component


def _expiry(data: dict, policy: ApprovalPolicy | None) -> datetime:
    now = timezone.now()
    if data.get("expires_at"):
        expires = parse_datetime(str(data["expires_at"]))
        if expires is None or timezone.is_naive(expires):
            raise ApprovalRefused("expires_at must be an ISO 8601 time with a time zone")
    else:
        minutes = data.get("expires_in_minutes") or (policy.default_ttl_minutes if policy else 60)
        if not isinstance(minutes, int) or minutes <= 0:
            raise ApprovalRefused("expires_in_minutes must be a positive whole number")
        expires = now + timedelta(minutes=minutes)
    if expires <= now or expires - now > MAX_TTL:
        raise ApprovalRefused("the expiry must be in the future and within 24 hours")
    return expires


def approval_create(
    *, client: MachineClient, data: dict, context: AuditContext | None = None
) -> ApprovalRequest:
    """A workflow at its pause point asks for a decision. Refusals are audited and raised."""
    label = f"machine:{client.name}"
    try:
        request = _approval_build(client=client, data=data)
    except ApprovalRefused as exc:
        audit_record(
            actor=None,
            actor_label=label,
            action="approval.create",
            outcome=AuditEvent.Outcome.DENIED,
            reason=exc.message,
            after=data,
            context=context,
        )
        raise
    with transaction.atomic():
        request.save()
        audit_record(
            actor=None,
            actor_label=label,
            action="approval.create",
            target=request,
            component=request.component,
            environment=request.environment.name,
            after={
                "phase": request.rollout_phase,
                "requester": request.requester_label,
                "expires_at": request.expires_at,
            },
            context=context,
        )
        # The eligible approvers are told once the request is committed (outbox rows written
        # then, delivered by Celery); robust: a failure there never fails the workflow's call.
        transaction.on_commit(lambda: approval_requested_notify(request), robust=True)
    return request


def _approval_build(*, client: MachineClient, data: dict) -> ApprovalRequest:
    if not isinstance(data, dict):
        raise ApprovalRefused("the body must be a JSON object")
    for field in ("service", "environment", "rollout_phase", "actor"):
        if not isinstance(data.get(field), str) or not data[field].strip():
            raise ApprovalRefused(f"{field} is required (a non-empty string)")
    component = _component(data["service"])
    environment = Environment.objects.filter(name=data["environment"]).first()
    if environment is None:
        raise ApprovalRefused(f"unknown environment {data['environment']!r}")
    if not client.environments.filter(pk=environment.pk).exists():
        raise ApprovalRefused(f"this token may not ask for approvals in {environment.name}")
    release = None
    if data.get("release_id") is not None:
        release = Release.objects.filter(
            pk=data["release_id"], component=component, environment=environment
        ).first()
        if release is None:
            raise ApprovalRefused("release_id does not match a release of this service there")
    policy = ApprovalPolicy.objects.filter(environment=environment).first()
    requester = get_user_model().objects.filter(username=data["actor"]).first()
    if release and release.requested_by_id:
        requester = release.requested_by
    signal = data.get("signal") or {}
    if not isinstance(signal, dict):
        raise ApprovalRefused("signal must be an object")
    return ApprovalRequest(
        component=component,
        environment=environment,
        release=release,
        client=client,
        rollout_phase=data["rollout_phase"][:200],
        weight=data.get("weight"),
        requested_by=requester,
        requester_label=data["actor"][:200],
        from_version=str(data.get("from_version") or (release.previous_version if release else "")),
        to_version=str(data.get("to_version") or (release.version if release else "")),
        workflow_run_url=str(data.get("workflow_run_url") or "")[:400],
        signal=signal,
        quorum=policy.quorum if policy else 1,
        on_expiry=policy.on_expiry if policy else ApprovalPolicy.OnExpiry.ABORT,
        expires_at=_expiry(data, policy),
    )


def approval_decide(
    *,
    actor,
    approval: ApprovalRequest,
    decision: str,
    comment: str = "",
    context: AuditContext | None = None,
) -> ApprovalRequest:
    """Approve, promote fully or abort. Exactly one decision wins; the signal goes on commit."""
    if decision not in ApprovalRequest.Decision.values:
        raise ApprovalRefused(f"unknown decision {decision!r}")
    requester = approval.requested_by_id == actor.pk
    permission_require(
        actor=actor,
        perm="approvals.decide_approvalrequest",
        obj=approval,
        action="approval.decide",
        component=approval.component,
        environment=approval.environment.name,
        context=context,
        message="You asked for this release: someone else from the owning team (or an SRE) "
        "must decide it."
        if requester
        else f"Only {approval.component.owner or 'the owning team'} and SREs may decide this.",
    )
    if approval.expires_at <= timezone.now():
        raise ApprovalRefused("This request has expired and can no longer be approved.")
    incident_gate_check(approval=approval, decision=decision)  # PagerDuty, outside the transaction
    try:
        with transaction.atomic():
            decided = _decision_apply(
                actor=actor, approval=approval, decision=decision, comment=comment
            )
            # A decision, or one vote toward a quorum that is not reached yet.
            audit_record(
                actor=actor,
                action="approval.decide" if decided else "approval.vote",
                target=approval,
                component=approval.component,
                environment=approval.environment.name,
                after={"decision": decision},
                reason=comment,
                context=context,
            )
            if decided:
                from . import tasks

                transaction.on_commit(lambda: tasks.approval_signal.delay(approval.pk))
    except IntegrityError:
        raise ApprovalRefused("You have already approved this request.")
    approval.refresh_from_db()
    return approval


def _decision_apply(*, actor, approval, decision, comment) -> bool:
    """True when this call decided the request; False when it added a vote toward a quorum."""
    pending = ApprovalRequest.objects.filter(
        pk=approval.pk, state=ApprovalRequest.State.PENDING, expires_at__gt=timezone.now()
    )
    if decision != ApprovalRequest.Decision.ABORT:
        ApprovalVote.objects.create(request=approval, user=actor, comment=comment)
        if approval.votes.count() < approval.quorum:
            if not pending.exists():
                _already_decided(approval)
            return False
    state = (
        ApprovalRequest.State.ABORTED
        if decision == ApprovalRequest.Decision.ABORT
        else ApprovalRequest.State.APPROVED
    )
    won = pending.update(
        state=state,
        decision=decision,
        decided_by=actor,
        decided_at=timezone.now(),
        comment=comment,
        signal_state=ApprovalRequest.SignalState.PENDING,
    )
    if not won:
        _already_decided(approval)
    return True


def _already_decided(approval: ApprovalRequest):
    approval.refresh_from_db()
    who = approval.decided_by.get_username() if approval.decided_by else "beat (expiry)"
    raise ApprovalRefused(f"Already {approval.get_state_display().lower()} by {who}.")


def approval_expire_due(*, now: datetime | None = None) -> int:
    """Beat: close every pending request past its expiry. Never approves. Returns how many."""
    from . import tasks

    now = now or timezone.now()
    closed = 0
    for approval in ApprovalRequest.objects.filter(state="pending", expires_at__lte=now):
        with transaction.atomic():
            won = ApprovalRequest.objects.filter(pk=approval.pk, state="pending").update(
                state=ApprovalRequest.State.EXPIRED,
                decided_at=now,
                signal_state=ApprovalRequest.SignalState.PENDING
                if approval.on_expiry == ApprovalPolicy.OnExpiry.ABORT
                else ApprovalRequest.SignalState.NONE,
            )
            if not won:
                continue
            closed += 1
            audit_record(
                actor=None,
                actor_label="beat",
                action="approval.expire",
                target=approval,
                component=approval.component,
                environment=approval.environment.name,
                after={"on_expiry": approval.on_expiry},
            )
            if approval.on_expiry == ApprovalPolicy.OnExpiry.ABORT:
                transaction.on_commit(lambda pk=approval.pk: tasks.approval_signal.delay(pk))
    return closed


def machine_client_issue(*, name: str, environments, actor=None, actor_label: str = "") -> tuple:
    """Create (or re-key) a machine client; returns (client, token, signing secret).

    The token is stored only as its SHA-256: this is the one moment it can be shown.
    """
    import secrets

    token, secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with transaction.atomic():
        client, created = MachineClient.objects.update_or_create(
            name=name,
            defaults={
                "token_sha256": MachineClient.hash_token(token),
                "signing_secret": secret,
                "is_active": True,
            },
        )
        client.environments.set(environments)
        audit_record(
            actor=actor,
            actor_label=actor_label,
            action="approvals.machine_client_issue",
            target=client,
            after={
                "created": created,
                "environments": sorted(e.name for e in client.environments.all()),
            },
        )
    return client, token, secret
