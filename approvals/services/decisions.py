"""Deciding an approval: approve (a vote toward the quorum), promote fully, abort, break-glass.

The rules (docs/access.md): eligible people under the environment's policy decide, never the
requester; abort is a safety action open to the requester, the owning team and SREs; superuser
status grants nothing. Every decision runs under a row lock on the request, and acts only while
the release is still paused at the step the request is about, or still on its way there (the
workflow asks as soon as it has committed, before the Rollout pauses): such an early decision is
held and sent when the release pauses at that step. A late decision changes nothing and sends
nothing.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from deployments.analysis.selectors import analysis_gate_open
from deployments.models import Release
from deployments.releases.freshness import release_fresh
from notifications.services import notification_followup
from oncall.gate import incident_gate_check
from portal.audit import AuditContext, audit_record
from portal.permissions import permission_require

from ..models import ApprovalPolicy, ApprovalRequest, ApprovalVote
from .requests import ApprovalRefused

Decision = ApprovalRequest.Decision
BREAK_GLASS_MIN_REASON = 20


def _clean_text(text, what: str) -> str:
    """A person's comment or reason, or ApprovalRefused: NUL bytes cannot be stored."""
    text = text if isinstance(text, str) else ""
    if "\x00" in text:
        raise ApprovalRefused(f"The {what} contains a NUL byte: remove it and try again.")
    return text[:2000]


def _schedule_signal(approval_id: int) -> None:
    from .. import tasks

    transaction.on_commit(lambda: tasks.approval_signal.delay(approval_id))


def _require(actor, approval, decision, context) -> None:
    if decision == Decision.ABORT:
        perm, message = (
            "approvals.abort_approvalrequest",
            f"Only the requester, {approval.component.owner or 'the owning team'} and SREs may "
            "abort this.",
        )
    elif approval.requested_by_id is not None and approval.requested_by_id == actor.pk:
        perm, message = (
            "approvals.decide_approvalrequest",
            "You asked for this release: someone else eligible (the owning team or an SRE) "
            "must decide it.",
        )
    else:
        who = "leads of " if approval.approvers == ApprovalPolicy.Approvers.LEADS else ""
        perm, message = (
            "approvals.decide_approvalrequest",
            f"Only {who}{approval.component.owner or 'the owning team'} and SREs may decide this.",
        )
    permission_require(
        actor=actor,
        perm=perm,
        obj=approval,
        action="approval.decide",
        component=approval.component,
        environment=approval.environment.name,
        context=context,
        message=message,
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
    if decision not in (Decision.APPROVE, Decision.PROMOTE_FULL, Decision.ABORT):
        raise ApprovalRefused(f"unknown decision {decision!r}")
    comment = _clean_text(comment, "comment")
    _require(actor, approval, decision, context)
    release = approval.release if approval.release_id else None
    if release and release.observed_at and decision != Decision.ABORT:
        # Decide on the cluster as it is now, not as it was last read: a rollout that moved on
        # meanwhile is recorded, and _lock_open below then refuses (nothing is sent); one that
        # paused since the last poll (the workflow asked at once) is seen paused. Abort, a
        # safety action, is never held back by an unreadable Argo CD.
        release_fresh(release=release, force=not release_waits_on(release, approval))
    incident_gate_check(approval=approval, decision=decision)  # PagerDuty, outside the transaction
    with transaction.atomic():
        locked = _lock_open(approval, decision)
        if decision == Decision.ABORT:
            decided = True
        else:
            if locked.votes.filter(user=actor).exists():
                raise ApprovalRefused("You have already approved this request.")
            ApprovalVote.objects.create(request=locked, user=actor, comment=comment)
            # Counted under the row lock: two last votes at once cannot both decide, nor both
            # see "one short".
            decided = locked.votes.count() >= locked.quorum
        if decided:
            _close(
                locked,
                actor=actor,
                decision=decision,
                comment=comment,
                held=decision != Decision.ABORT and _held(locked),
            )
        audit_record(
            actor=actor,
            action="approval.decide" if decided else "approval.vote",
            target=locked,
            component=approval.component,
            environment=approval.environment.name,
            after={"decision": decision},
            reason=comment,
            context=context,
        )
    approval.refresh_from_db()
    return approval


def _lock_open(approval: ApprovalRequest, decision: str, *, soak: bool = True) -> ApprovalRequest:
    """The request, locked, if it still takes a decision; ApprovalRefused (nothing changed)
    when it is decided, expired, its release is no longer paused at this step, or (unless
    `soak` is False: break-glass) the step's analysis is still soaking or failed."""
    locked = ApprovalRequest.objects.select_for_update().get(pk=approval.pk)
    if locked.state != ApprovalRequest.State.PENDING:
        who = locked.decided_by.get_username() if locked.decided_by else "beat (expiry)"
        raise ApprovalRefused(f"Already {locked.get_state_display().lower()} by {who}.")
    if locked.expires_at <= timezone.now():
        raise ApprovalRefused("This request has expired and can no longer be approved.")
    if locked.release_id is None:
        return locked
    release = Release.objects.select_for_update().get(pk=locked.release_id)
    if decision == Decision.ABORT:
        if release.is_terminal:
            raise ApprovalRefused(
                f"The release is {release.get_state_display().lower()} already: nothing to abort."
            )
        return locked
    if not release_waits_on(release, locked) and not release_heads_to(release, locked):
        raise ApprovalRefused(
            f"The release is {release.get_state_display().lower()} now, not paused at "
            f"{locked.rollout_phase}: nothing was decided and nothing was sent."
        )
    if soak:
        gate_open, why = analysis_gate_open(release)
        if not gate_open:
            raise ApprovalRefused(f"Not yet: {why} Nothing was decided and nothing was sent.")
    return locked


def release_waits_on(release: Release, approval: ApprovalRequest) -> bool:
    """True while `release` is paused at the step `approval` asks about."""
    if release.state != Release.State.PAUSED:
        return False
    if approval.weight is None or release.set_weight is None:
        return True
    return release.set_weight == approval.weight


def release_heads_to(release: Release, approval: ApprovalRequest) -> bool:
    """True while `release` is still on its way to the pause `approval` asks about: a decision
    made now is held, and sent when the release pauses there. A release that has paused since
    the request was made, and moved, has gone past it."""
    if release.state not in (
        Release.State.RUNNING_WORKFLOW,
        Release.State.SYNCING,
        Release.State.PROGRESSING,
        Release.State.PAUSED,
    ):
        return False
    if approval.weight is not None and release.set_weight is not None:
        if release.set_weight > approval.weight:
            return False
        if release.state == Release.State.PAUSED and release.set_weight == approval.weight:
            return False  # paused there: release_waits_on, not on its way
    elif release.state == Release.State.PAUSED:
        return False
    return not release.events.filter(
        state=Release.State.PAUSED, created_at__gte=approval.created_at
    ).exists()


def _held(approval: ApprovalRequest) -> bool:
    """Whether a decision on `approval` (locked, with its release) must wait for the pause."""
    if approval.release_id is None:
        return False
    release = Release.objects.get(pk=approval.release_id)
    return not release_waits_on(release, approval)


def _close(approval, *, actor, decision, comment, held: bool = False) -> None:
    state = (
        ApprovalRequest.State.ABORTED
        if decision == Decision.ABORT
        else ApprovalRequest.State.APPROVED
    )
    ApprovalRequest.objects.filter(pk=approval.pk, state=ApprovalRequest.State.PENDING).update(
        state=state,
        decision=decision,
        decided_by=actor,
        decided_at=timezone.now(),
        comment=comment,
        signal_state=ApprovalRequest.SignalState.HELD
        if held
        else ApprovalRequest.SignalState.PENDING,
    )
    if not held:
        _schedule_signal(approval.pk)
    _followup(approval, "approval.decided", f"{decision} by {actor.get_username()}")


def _followup(approval, event: str, what: str) -> None:
    """The Slack message of the request is updated (outbox rows in this transaction)."""
    notification_followup(
        event=event,
        key=f"approval:{approval.pk}",
        title=f"{approval.component.name} in {approval.environment.name}: {what}",
        url=approval.get_absolute_url(),
    )


def approval_for_release(release: Release) -> ApprovalRequest | None:
    """The open approval request a paused release waits on, if any."""
    return (
        ApprovalRequest.objects.select_related("component__owner", "environment")
        .filter(release=release, state=ApprovalRequest.State.PENDING)
        .first()
    )


def approval_release_promote(
    *, actor, release: Release, full: bool, context: AuditContext | None = None
) -> ApprovalRequest:
    """Promote a gated release: this is a decision on its approval, under the same rules."""
    approval = approval_for_release(release)
    if approval is None:
        raise ApprovalRefused(
            f"{release.environment} needs an approval to go past this pause, and the workflow "
            "has not asked for one yet: wait for the approval request, then decide it."
        )
    return approval_decide(
        actor=actor,
        approval=approval,
        decision=Decision.PROMOTE_FULL if full else Decision.APPROVE,
        comment=f"promoted {'fully' if full else 'one step'} from the release page",
        context=context,
    )


def approval_break_glass(
    *, actor, approval: ApprovalRequest, reason: str, context: AuditContext | None = None
) -> ApprovalRequest:
    """An SRE overrides the gate in an emergency. Not a decision by the rules: a separate,
    loud action, audited as `approval.break_glass` with its reason, shown on the approval."""
    permission_require(
        actor=actor,
        perm="approvals.break_glass_approvalrequest",
        obj=approval,
        action="approval.break_glass",
        component=approval.component,
        environment=approval.environment.name,
        context=context,
        message="Only SREs may break the glass.",
    )
    reason = _clean_text(reason, "reason").strip()
    if len(reason) < BREAK_GLASS_MIN_REASON:
        raise ApprovalRefused(
            f"Say why the gate is broken (at least {BREAK_GLASS_MIN_REASON} characters): the "
            "reason is recorded and shown to everyone."
        )
    with transaction.atomic():
        # An emergency override opens the gate, the analysis' soak included.
        locked = _lock_open(approval, Decision.APPROVE, soak=False)
        _close(
            locked,
            actor=actor,
            decision=Decision.BREAK_GLASS,
            comment=reason[:2000],
            held=_held(locked),
        )
        audit_record(
            actor=actor,
            action="approval.break_glass",
            target=locked,
            component=approval.component,
            environment=approval.environment.name,
            after={"decision": Decision.BREAK_GLASS, "quorum": locked.quorum},
            reason=reason,
            context=context,
        )
    approval.refresh_from_db()
    return approval


def approval_expire_due(*, now: datetime | None = None) -> int:
    """Beat: close every pending request past its expiry. Never approves. Returns how many."""
    now = now or timezone.now()
    closed = 0
    for approval in ApprovalRequest.objects.filter(state="pending", expires_at__lte=now):
        aborts = approval.on_expiry == ApprovalPolicy.OnExpiry.ABORT
        with transaction.atomic():
            won = ApprovalRequest.objects.filter(pk=approval.pk, state="pending").update(
                state=ApprovalRequest.State.EXPIRED,
                decided_at=now,
                signal_state=ApprovalRequest.SignalState.PENDING
                if aborts
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
            if aborts:
                _schedule_signal(approval.pk)
            _followup(approval, "approval.expired", "expired")
    return closed
