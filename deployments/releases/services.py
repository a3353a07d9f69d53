"""Every write on releases. People's actions check permission and audit; machine steps (Celery)
only move a release forward through conditional updates."""

import re

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import Component, ComponentEnvironment, Environment
from portal.audit import AuditContext, audit_record
from portal.permissions import permission_require

from ..analysis.selectors import analysis_gate_open
from ..cdevents.services import cdevents_release_record
from . import tasks
from .errors import ReleaseRefused
from .models import DeployFreeze, Release, ReleaseEvent
from .selectors import environment_gated, live_version
from .transitions import release_aborted_status, release_transition

VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
DEFAULT_CANARY_STEPS = [5, 25, 50, 100]


def _active_freeze(component: Component, environment: Environment) -> DeployFreeze | None:
    now = timezone.now()
    return (
        DeployFreeze.objects.filter(environment=environment, starts_at__lte=now, ends_at__gt=now)
        .filter(Q(component__isnull=True) | Q(component=component))
        .first()
    )


def _running_version(target: ComponentEnvironment) -> str:
    """What runs now: the version of the pods Argo CD sees, else the last release that
    succeeded here (Argo CD unreachable, or two versions running).

    Called before any transaction (it may ask Argo CD); "" when nobody can tell.
    """
    return (
        live_version(target)
        or (
            Release.objects.filter(
                component=target.component, environment=target.environment, state="succeeded"
            )
            .order_by("-finished_at")
            .values_list("version", flat=True)
            .first()
        )
        or ""
    )


def release_start(
    *,
    actor,
    component: Component,
    environment: Environment,
    version: str,
    strategy: str = Release.Strategy.ROLLING,
    canary_steps: list[int] | None = None,
    reason: str = "",
    rollback_of: Release | None = None,
    restore: bool = False,
    context: AuditContext | None = None,
    train=None,
    authorised_by=None,
) -> Release:
    """Queue a release of `version` of `component` to `environment`; workflow starts on commit.

    `restore`: the last good version, brought back by `release_restore` (audited as such).

    `train`: the train releasing it; a component in a running train is released by it only.
    `authorised_by`: with a train, the owner whose approval of their part lets the train's
    starter (`actor`, who may not release this component) release it: the permission is theirs,
    the release is still the starter's request."""
    target = ComponentEnvironment.objects.filter(
        component=component, environment=environment
    ).first()
    action = "release.rollback" if rollback_of else "release.start"
    action = "release.restore" if restore else action
    permission_require(
        actor=authorised_by if train is not None and authorised_by is not None else actor,
        perm="deployments.start_release",
        obj=target or component,
        action=action,
        component=component,
        environment=environment.name,
        context=context,
        message=f"Only {component.owner or 'the owning team'} and SREs may release {component}.",
    )
    if target is None:
        raise ReleaseRefused(
            f"{component} has no settings for {environment}: add it to that environment in the "
            "catalog (Kubernetes deployment and Argo CD application) first."
        )
    version = (version or "").strip()
    if not VERSION_RE.match(version):
        raise ReleaseRefused(f"“{version}” is not a version: use a tag such as v1.4.2.")
    if strategy not in Release.Strategy.values:
        raise ReleaseRefused(f"Unknown strategy “{strategy}”.")
    steps = canary_steps or (DEFAULT_CANARY_STEPS if strategy == Release.Strategy.CANARY else [])
    if steps and (sorted(steps) != steps or steps[-1] != 100 or steps[0] <= 0):
        raise ReleaseRefused("Canary steps must rise and end at 100, e.g. 5, 25, 50, 100.")
    freeze = _active_freeze(component, environment)
    if freeze:
        raise ReleaseRefused(
            f"Releases to {environment} are frozen until {freeze.ends_at:%Y-%m-%d %H:%M} UTC: "
            f"{freeze.reason}"
        )
    from ..trains.selectors import train_holding

    holder = train_holding(component=component, environment=environment)
    if holder and holder != train:
        raise ReleaseRefused(
            f"{component} is part of the running train “{holder.title}” in {environment}: it is "
            "released by the train, not on its own."
        )
    return _release_create(
        previous_version=_running_version(target),
        actor=actor,
        component=component,
        environment=environment,
        version=version,
        strategy=strategy,
        steps=steps,
        reason=reason,
        rollback_of=rollback_of,
        is_restore=restore,
        action=action,
        context=context,
        authorised_by=authorised_by if train is not None else None,
    )


def _release_create(
    *,
    actor,
    component,
    environment,
    version,
    previous_version,
    strategy,
    steps,
    reason,
    rollback_of,
    is_restore=False,
    action,
    context,
    authorised_by=None,
) -> Release:
    try:
        with transaction.atomic():
            release = Release.objects.create(
                component=component,
                environment=environment,
                version=version,
                previous_version=previous_version,
                strategy=strategy,
                canary_steps=steps,
                requested_by=actor,
                reason=reason,
                rollback_of=rollback_of,
                is_restore=is_restore,
            )
            ReleaseEvent.objects.create(
                release=release,
                state=release.state,
                message=f"{actor.get_username()} asked for {version} "
                f"({release.get_strategy_display()})",
            )
            audit_record(
                actor=actor,
                action=action,
                target=release,
                component=component,
                environment=environment.name,
                before={"version": release.previous_version or None},
                after={"version": version, "strategy": strategy, "steps": steps}
                | ({"authorised_by": authorised_by.get_username()} if authorised_by else {}),
                reason=reason,
                context=context,
            )
            cdevents_release_record(release_id=release.pk, state=release.state)
            transaction.on_commit(lambda: tasks.release_dispatch.delay(release.pk))
    except IntegrityError:
        active = Release.objects.filter(
            component=component, environment=environment, state__in=Release.ACTIVE_STATES
        ).first()
        detail = f" ({active.version}, {active.get_state_display().lower()})" if active else ""
        raise ReleaseRefused(
            f"{component} already has a release in progress in {environment}{detail}: wait for "
            "it to finish or abort it first."
        )
    return release


def release_promote(
    *, actor, release: Release, full: bool = False, context: AuditContext | None = None
) -> Release:
    """Let a paused canary go on: to the next step, or all the way (`full`).

    Only where no approval policy applies: in a gated environment promoting is a decision and
    goes through the approval service (approvals.services.approval_release_promote).
    """
    gated = environment_gated(release.environment)
    permission_require(
        actor=actor,
        perm="deployments.promote_release",
        obj=release,
        action="release.promote",
        component=release.component,
        environment=release.environment.name,
        context=context,
        message=f"{release.environment} is gated: promoting is a decision on the release's "
        "approval, by someone eligible other than the requester."
        if gated
        else f"Only {release.component.owner or 'the owning team'} and SREs may promote this.",
    )
    seen_step = release.current_step
    # Under an analysis policy a step soaks first: a person's promote waits for it as an
    # approval does (abort never waits; an inconclusive analysis after the soak is theirs).
    gate_open, why = analysis_gate_open(release, offered="it may be promoted")
    if not gate_open:
        raise ReleaseRefused(f"Not yet: {why} Nothing was promoted.")
    release = _fresh_or_refused(release, seen_step)
    with transaction.atomic():
        # Conditional on the step the person saw: a double click promotes once.
        moved = release_transition(
            release_id=release.pk,
            from_states=[Release.State.PAUSED],
            to_state=Release.State.PROGRESSING,
            message=f"{actor.get_username()} promoted {'fully' if full else 'one step'}",
            data={"full": full, "from_step": seen_step},
            where={"current_step": seen_step},
        )
        if not moved:
            release.refresh_from_db()
            raise ReleaseRefused(
                f"This release is {release.get_state_display().lower()} now, not paused: nothing "
                "was promoted. The page shows its current state."
            )
        audit_record(
            actor=actor,
            action="release.promote",
            target=release,
            component=release.component,
            environment=release.environment.name,
            before={"step": seen_step},
            after={"full": full},
            context=context,
        )
        signal = "promote-full" if full else "resume"
        transaction.on_commit(lambda: tasks.release_signal.delay(release.pk, signal))
    release.refresh_from_db()
    return release


def _fresh_or_refused(release: Release, seen_step) -> Release:
    """The release re-read from Argo CD (unless just read): refused when the rollout is no
    longer paused where the person saw it, so that what is sent matches what runs."""
    from .freshness import release_fresh

    fresh = release_fresh(release=release)
    if fresh.state == Release.State.PAUSED and fresh.current_step == seen_step:
        return fresh
    where = (
        f"paused at {fresh.set_weight}%"
        if fresh.state == Release.State.PAUSED
        else f"{fresh.get_state_display().lower()} with {fresh.actual_weight or 0}% of traffic"
    )
    raise ReleaseRefused(
        f"The rollout moved on since this page was drawn: it is {where} now. Nothing was "
        "promoted; look at its current state and decide again."
    )


def release_abort(
    *,
    actor,
    release: Release,
    reason: str,
    context: AuditContext | None = None,
    machine: str = "",
    evidence: dict | None = None,
) -> Release:
    """Stop a release: traffic goes back to the stable version; the timeline says why.

    `machine` (e.g. "machine:analysis", with `actor=None`): our own beat decided, on `evidence`
    (the values behind the decision, kept in the timeline and audit log). Abort is a safety
    action, so a machine needs no person's permission to take it.
    """
    if not machine:
        permission_require(
            actor=actor,
            perm="deployments.abort_release",
            obj=release,
            action="release.abort",
            component=release.component,
            environment=release.environment.name,
            context=context,
        )
    if not reason.strip():
        raise ReleaseRefused("Say why you abort: the reason goes into the timeline and audit log.")
    from .freshness import release_fresh

    release = release_fresh(release=release)  # a rollout that finished meanwhile is not aborted
    reached_cluster = release.state in (
        Release.State.SYNCING,
        Release.State.PROGRESSING,
        Release.State.PAUSED,
    )
    with transaction.atomic():
        moved = release_transition(
            release_id=release.pk,
            from_states=Release.ACTIVE_STATES,
            to_state=Release.State.ABORTED,
            message=f"{machine or actor.get_username()} aborted: {reason}",
            data={"evidence": evidence} if evidence else None,
            status_message=(
                release_aborted_status(release)
                if reached_cluster
                else "Aborted before the change reached the cluster: nothing was rolled out."
            ),
        )
        if not moved:
            release.refresh_from_db()
            raise ReleaseRefused(f"This release already {release.get_state_display().lower()}.")
        audit_record(
            actor=None if machine else actor,
            actor_label=machine,
            action="release.abort",
            target=release,
            component=release.component,
            environment=release.environment.name,
            after=evidence,
            reason=reason,
            context=context,
        )
        if reached_cluster:
            transaction.on_commit(lambda: tasks.release_signal.delay(release.pk, "abort"))
    release.refresh_from_db()
    return release


def release_rollback(
    *, actor, release: Release, reason: str, context: AuditContext | None = None
) -> Release:
    """One click: a new release of the version that ran before `release`, through the same flow."""
    if not release.previous_version:
        raise ReleaseRefused(
            "No earlier version of this service ran here: nothing to roll back to."
        )
    if not reason.strip():
        raise ReleaseRefused(
            "Say why you roll back: the reason goes into the timeline and audit log."
        )
    return release_start(
        actor=actor,
        component=release.component,
        environment=release.environment,
        version=release.previous_version,
        strategy=Release.Strategy.ROLLING,
        reason=reason,
        rollback_of=release,
        context=context,
    )
