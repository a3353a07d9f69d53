"""A train's approvals: each owning team approves its part, for the whole train or per wave.

Where they come from:
- the environment's approval policy (`ApprovalPolicy.train_approvals`, read through the ORM
  relation `Environment.approval_policy`: deployments imports nothing of approvals): one part
  per owning team for the train, or one per wave and owning team, as the policy says or, when
  it lets them, as whoever planned the train chose;
- the starter's permissions: starting needs release permission on every service, or the
  owners' approval of their part (then that approval lets the train release their services).

Each service waits for the parts that cover it (its team's, for the train or its wave); a
declined part stops the train like a failed wave. Once approved, a gated canary's own pause is
decided with the part's approval (approvals registers `train_release_paused`).
"""

from datetime import datetime, timedelta

import rules
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.audit import AuditContext, audit_record
from portal.errors import PermissionDenied
from portal.models import AuditEvent
from portal.permissions import permission_require

from .errors import TrainRefused
from .models import Train, TrainApproval, TrainEvent, TrainService

Mode = Train.ApprovalMode
Part = TrainApproval.State
_PAUSED_HOOKS = []
DEFAULT_TTL_MINUTES = 60
ON_EXPIRY_ABORT = "abort"  # as approvals' ApprovalPolicy.OnExpiry (deployments imports none)


def train_approval_mode(environment, choice: str = "") -> str:
    """The train's approval mode: none without a policy; the policy's, or the planner's
    `choice` where the policy lets them choose (one per wave and team when they did not)."""
    policy = _policy(environment)
    if policy is None:
        return Mode.NONE
    asked = policy.train_approvals
    if asked == "either":
        return choice if choice in (Mode.TRAIN, Mode.WAVE) else Mode.WAVE
    if choice and choice != asked:
        label = dict(Mode.choices)[asked].lower()
        raise TrainRefused(f"{environment} asks for {label}: its approval policy says so.")
    return asked


def _policy(environment):
    try:
        return environment.approval_policy
    except type(environment).approval_policy.RelatedObjectDoesNotExist:
        return None


def may_release(user, component) -> bool:
    return user is not None and rules.has_perm("deployments.start_release", user, component)


def train_parts_build(*, actor, train: Train, services: list[TrainService], context=None):
    """The parts `actor` starting `train` needs (unsaved). Refused, naming them, when a
    service the starter may not release (or, under a policy, any service) has no owning team
    to approve it."""
    missing = [s for s in services if not may_release(actor, s.component)]
    mode = train.approval_mode
    needing = services if mode else missing
    orphans = [str(s.component) for s in needing if s.component.owner_id is None]
    if orphans:
        _refuse(actor, train, context, f"{', '.join(orphans)} has no owning team to approve it")
    short = {s.component.owner_id for s in missing}
    policy = _policy(train.environment)
    approvers = policy.approvers if policy and mode else "team"
    # As an approval request: the policy's time to decide and what its expiry does (an hour,
    # and abort, without a policy). Each part's clock starts when the train waits on it.
    ttl = policy.default_ttl_minutes if policy else DEFAULT_TTL_MINUTES
    on_expiry = policy.on_expiry if policy else ON_EXPIRY_ABORT
    scopes = {
        (s.component.owner_id, s.wave if mode == Mode.WAVE else None): s.component.owner
        for s in needing
    }
    return [
        TrainApproval(
            train=train,
            team=team,
            wave=wave,
            approvers=approvers,
            why=TrainApproval.Why.PERMISSION if team_id in short else TrainApproval.Why.POLICY,
            ttl_minutes=ttl,
            on_expiry=on_expiry,
            expires_at=timezone.now() + timedelta(minutes=ttl) if wave in (None, 0) else None,
        )
        for (team_id, wave), team in sorted(
            scopes.items(), key=lambda item: (item[0][1] or 0, item[1].name)
        )
    ]


def _refuse(actor, train, context, reason: str) -> None:
    message = f"You may not start this train: {reason}. Ask an SRE."
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="train.start",
            target=train,
            outcome=AuditEvent.Outcome.DENIED,
            environment=train.environment.name,
            reason=message,
            context=context,
        )
    raise PermissionDenied(message)


def covering(parts, service: TrainService) -> list[TrainApproval]:
    return [part for part in parts if part.covers(service)]


def service_cleared(parts, service: TrainService) -> bool:
    """Every part covering `service` is approved (true when none covers it)."""
    return all(part.state == Part.APPROVED for part in covering(parts, service))


def release_authoriser(train: Train, parts, service: TrainService):
    """Who lets the train release `service`: nobody else (None) when its starter may;
    otherwise the owner who approved the part covering it."""
    if may_release(train.started_by, service.component):
        return None
    return approver_of(parts, service)


def approver_of(parts, service: TrainService):
    """The person whose approval of a policy part covers `service` (for its canary's pause)."""
    for part in covering(parts, service):
        if part.state == Part.APPROVED and part.decided_by_id:
            return part.decided_by
    return None


def train_release_paused_register(hook) -> None:
    """`hook(train=, service=, release=, approver=)` runs on every tick while a train's
    release is paused and a part covering it was approved under a policy; returns "" or a
    sentence for the service's line (why the pause is left to people)."""
    _PAUSED_HOOKS.append(hook)


def train_release_paused(*, train, service, release, approver) -> str:
    said = ""
    for hook in _PAUSED_HOOKS:
        said = hook(train=train, service=service, release=release, approver=approver) or said
    return said


def train_approval_decide(
    *,
    actor,
    part: TrainApproval,
    decision: str,
    comment: str = "",
    context: AuditContext | None = None,
) -> TrainApproval:
    """Approve or decline a team's part of a running train. Approving lets the services it
    covers go (released by the train); declining stops the train: what runs is aborted and
    the earlier waves restored, as for a failed wave."""
    if decision not in ("approve", "decline"):
        raise TrainRefused(f"Unknown decision “{decision}”.")
    team = part.team
    who = "leads of " if part.approvers == "leads" else ""
    permission_require(
        actor=actor,
        perm="deployments.decide_trainapproval",
        obj=part,
        action="train.approve",
        environment=part.train.environment.name,
        context=context,
        message=f"Only {who}{team} and SREs decide {team}'s part of this train, and never "
        "whoever started it.",
    )
    comment = (comment or "").replace("\x00", "").strip()[:500]
    state = Part.APPROVED if decision == "approve" else Part.DECLINED
    now = timezone.now()
    with transaction.atomic():
        train = Train.objects.select_for_update().get(pk=part.train_id)
        if not train.is_active:
            raise TrainRefused(f"This train is {train.get_state_display().lower()}: it is over.")
        moved = (
            TrainApproval.objects.filter(pk=part.pk, state=Part.PENDING)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .update(state=state, decided_by=actor, decided_at=now, comment=comment)
        )
        if not moved:
            part.refresh_from_db()
            if part.state == Part.PENDING:  # past its expiry; beat has not closed it yet
                raise TrainRefused(
                    f"{team}'s part expired at {part.expires_at:%H:%M} UTC and can no longer "
                    "be decided."
                )
            raise TrainRefused(
                f"{team}'s part is {part.get_state_display().lower()} already"
                + (f" by {part.decided_by}" if part.decided_by else "")
                + "."
            )
        verb = "approved" if state == Part.APPROVED else "declined"
        because = f": {comment}" if comment else ""
        _note(train, f"{actor.get_username()} {verb} {team}'s part ({part.scope}){because}")
        if state == Part.DECLINED and train.state == Train.State.RUNNING:
            _stop(train, f"{team} declined its part ({part.scope}){because}")
        audit_record(
            actor=actor,
            action="train.approve" if state == Part.APPROVED else "train.decline",
            target=train,
            environment=train.environment.name,
            after={"team": team.name, "wave": part.wave, "decision": decision},
            reason=comment,
            context=context,
        )
        from . import tasks

        transaction.on_commit(lambda: tasks.train_tick.delay(train.pk))
    part.refresh_from_db()
    return part


def train_part_ask_again(
    *, actor, part: TrainApproval, context: AuditContext | None = None
) -> TrainApproval:
    """Under `stay-paused` a part that expired unanswered leaves its services waiting; whoever
    started the train (or an SRE) asks the team again: the part is open once more with a fresh
    clock of the policy's minutes, and the team is told. Only an expired part of a running
    train; conditional, so a double click asks once."""
    team = part.team
    permission_require(
        actor=actor,
        perm="deployments.reask_train",
        obj=part.train,
        action="train.reask",
        environment=part.train.environment.name,
        context=context,
        message=f"Only whoever started this train and SREs ask {team} again.",
    )
    now = timezone.now()
    with transaction.atomic():
        train = Train.objects.select_for_update().get(pk=part.train_id)
        if train.state != Train.State.RUNNING:
            raise TrainRefused(
                f"This train is {train.get_state_display().lower()}: nothing waits on {team}'s "
                "part any more."
            )
        expires_at = now + timedelta(minutes=part.ttl_minutes)
        moved = TrainApproval.objects.filter(pk=part.pk, state=Part.EXPIRED).update(
            state=Part.PENDING, expires_at=expires_at, decided_at=None, decided_by=None
        )
        if not moved:
            part.refresh_from_db()
            raise TrainRefused(
                f"{team}'s part is {part.get_state_display().lower()}: only a part that "
                "expired unanswered is asked again."
            )
        _note(
            train,
            f"{actor.get_username()} asked {team} again for its part ({part.scope}): decide by "
            f"{expires_at:%H:%M} UTC",
        )
        audit_record(
            actor=actor,
            action="train.reask",
            target=train,
            environment=train.environment.name,
            after={"team": team.name, "wave": part.wave, "expires_at": expires_at.isoformat()},
            context=context,
        )
        from . import tasks

        transaction.on_commit(lambda: _parts_due_notify([part.pk]), robust=True)
        transaction.on_commit(lambda: tasks.train_tick.delay(train.pk))
    part.refresh_from_db()
    return part


def _note(train: Train, message: str) -> None:
    TrainEvent.objects.create(train=train, state=train.state, message=message[:500])


def _stop(train: Train, reason: str) -> None:
    Train.objects.filter(pk=train.pk, state=Train.State.RUNNING).update(
        state=Train.State.ROLLING_BACK, failure_reason=reason[:500]
    )
    train.refresh_from_db()
    _note(train, f"{reason}; rolling back")


def train_parts_close(train: Train) -> None:
    """A finished train's open parts are closed: nothing waits on them any more."""
    TrainApproval.objects.filter(train=train, state=Part.PENDING).update(
        state=Part.CLOSED, decided_at=timezone.now()
    )


def waiting_line(parts, service: TrainService) -> str:
    """Why `service` waits on its parts: for a decision, or on a part that expired while its
    policy leaves the train waiting (stay-paused)."""
    team = service.component.owner
    for part in covering(parts, service):
        if part.state == Part.EXPIRED:
            return (
                f"{team}'s approval of its part expired unanswered; the policy leaves the "
                "train waiting: ask the team again, or cancel the train to roll back"
            )
    return f"Waits for {team}'s approval of its part"


def train_parts_ask(parts, wave: int, *, now: datetime | None = None) -> None:
    """Start the clock of the pending parts the train now waits on (its wave's; the train's
    own were started with it). Conditional, so a duplicate tick changes nothing."""
    now = now or timezone.now()
    asked = []
    for part in parts:
        if part.state == Part.PENDING and part.expires_at is None and part.wave in (None, wave):
            part.expires_at = now + timedelta(minutes=part.ttl_minutes)
            if TrainApproval.objects.filter(pk=part.pk, expires_at__isnull=True).update(
                expires_at=part.expires_at
            ):
                asked.append(part.pk)
    if asked:
        # Told at the start that a later wave would need them; told again now that the train
        # waits and the part's clock runs (once: the clock starts once).
        transaction.on_commit(lambda: _parts_due_notify(asked), robust=True)


def _parts_due_notify(part_ids: list[int]) -> None:
    from notifications.events import train_parts_requested_notify

    parts = TrainApproval.objects.filter(pk__in=part_ids, state=Part.PENDING)
    train_parts_requested_notify(list(parts.select_related("train", "team")), due=True)


def train_parts_expire_due(*, now: datetime | None = None) -> int:
    """Beat: close every pending part past its expiry; never approves. Under `abort` (the
    default, as for approval requests) the train is stopped like a declined part and rolled
    back with the reason; under `stay-paused` its services are left waiting. Returns how
    many were closed; a duplicate or late tick closes nothing again."""
    from . import tasks

    now = now or timezone.now()
    closed = 0
    due = TrainApproval.objects.filter(state=Part.PENDING, expires_at__lte=now).select_related(
        "team"
    )
    for part in due:
        with transaction.atomic():
            train = Train.objects.select_for_update().get(pk=part.train_id)
            won = TrainApproval.objects.filter(pk=part.pk, state=Part.PENDING).update(
                state=Part.EXPIRED, decided_at=now
            )
            if not won:
                continue
            closed += 1
            why = f"{part.team}'s part ({part.scope}) expired: nobody decided it within "
            why += f"{part.ttl_minutes} minutes"
            aborts = part.on_expiry == ON_EXPIRY_ABORT
            if aborts and train.state == Train.State.RUNNING:
                _stop(train, why)
            else:
                left = "; the train waits (its policy leaves it paused)" if not aborts else ""
                _note(train, why + left)
            audit_record(
                actor=None,
                actor_label="beat",
                action="train.expire",
                target=train,
                environment=train.environment.name,
                after={"team": part.team.name, "wave": part.wave, "on_expiry": part.on_expiry},
            )
            transaction.on_commit(lambda pk=train.pk: tasks.train_tick.delay(pk))
    return closed
