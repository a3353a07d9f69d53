"""Machine steps of a release: called by Celery tasks, never by people.

Each step claims or moves the release with a conditional update first, calls the outside world
outside any transaction, and records what it saw. A duplicate or late task finds the state moved
on and does nothing; a task killed half way leaves a row the beat sweep picks up again.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from catalog.models import ComponentEnvironment
from integrations.errors import IntegrationError
from portal.links import is_http_url

from ..analysis.models import AnalysisPolicy
from .models import Release, ReleaseEvent
from .selectors import environment_gated, repository_slug
from .transitions import release_aborted_status, release_poll_schedule, release_transition

logger = logging.getLogger(__name__)
RELEASE_WORKFLOW = "deploy.yml"
STUCK_AFTER = timedelta(minutes=2)
CANARY_STEP_PAUSE = "30s"
# Argo Rollouts' pause condition reasons, as a person would say them.
PAUSE_REASONS = {
    "CanaryPauseStep": "a canary step waiting for a go-ahead",
    "BlueGreenPause": "the new version is ready, waiting for the switch",
    "InconclusiveAnalysis": "the analysis could not decide",
    "PausedByUser": "paused by hand",
}


def pause_reason_text(reason: str) -> str:
    return PAUSE_REASONS.get(reason, reason)


POLL_LEASE = timedelta(seconds=30)
APPROVAL_SIGNAL = {"approve": "resume", "promote-full": "promote-full", "abort": "abort"}


def release_dispatch_run(*, release_id: int) -> None:
    """Claim a queued release and start its workflow; raises IntegrationError when transient."""
    from integrations.github import github_client

    if not release_transition(
        release_id=release_id,
        from_states=[Release.State.QUEUED],
        to_state=Release.State.DISPATCHING,
        message="Starting the deploy workflow",
    ):
        return
    release = Release.objects.select_related("component", "environment", "requested_by").get(
        pk=release_id
    )
    repo = repository_slug(release.component)
    client = github_client()
    _commit_time_record(client, repo, release)
    try:
        # A dispatch whose answer was lost (timeout, worker killed) is found by its run-name.
        run = client.workflow_run_find(repo, RELEASE_WORKFLOW, release.run_name)
        if run is None and release.dispatch_sent_at is not None:
            _lost_dispatch_wait(release)  # never sent twice: wait for its run, or give up
        if run is None:
            run = client.workflow_run_get(repo, _dispatch_send(client, repo, release))
    except IntegrationError as exc:
        _dispatch_failed(release, exc)
        raise
    release_transition(
        release_id=release_id,
        from_states=[Release.State.DISPATCHING],
        to_state=Release.State.RUNNING_WORKFLOW,
        message=f"Workflow run #{run.run_number} started",
        data={"run_id": run.id},
        workflow_run_id=run.id,
        workflow_run_url=run.html_url if is_http_url(run.html_url) else "",
        last_error="",
        next_poll_at=timezone.now() + timedelta(seconds=2),
        poll_interval=2.0,
        observed_at=timezone.now(),
    )


def _commit_time_record(client, repo: str, release: Release) -> None:
    """Keep when the version was committed, for DORA's lead time. Best effort: GitHub failing
    here never holds the release up (the dispatch below decides about retries)."""
    if release.committed_at is not None:
        return
    try:
        committed = client.version_committed_at(repo, release.version)
    except IntegrationError as exc:
        logger.info("commit time of %s %s not read: %s", repo, release.version, exc)
        return
    if committed is not None:
        Release.objects.filter(pk=release.pk).update(committed_at=committed)


def _dispatch_send(client, repo: str, release: Release) -> int:
    """Send the dispatch once; remember it was sent until GitHub certainly did not get it."""
    Release.objects.filter(pk=release.pk, state=Release.State.DISPATCHING).update(
        dispatch_sent_at=timezone.now()
    )
    try:
        return client.workflow_dispatch(
            repo, RELEASE_WORKFLOW, "main", _workflow_inputs(release), run_name=release.run_name
        )
    except IntegrationError as exc:
        if exc.delivered is False:
            Release.objects.filter(pk=release.pk).update(dispatch_sent_at=None)
        raise


def _lost_dispatch_wait(release: Release) -> None:
    """A dispatch was sent but its answer lost, and no run carries its run-name yet.

    Within GITHUB_DISPATCH_APPEAR_SECONDS the run may still appear: a transient error, so the
    task retries and looks again. After that the release fails with what to check, never
    dispatching a second run.
    """
    window = settings.GITHUB_DISPATCH_APPEAR_SECONDS
    waited = (timezone.now() - release.dispatch_sent_at).total_seconds()
    if waited < window:
        raise IntegrationError(
            f"the answer to the dispatch was lost; waiting up to {window:.0f}s for its run "
            f"{release.run_name!r} to appear instead of dispatching again",
            transient=True, system="github",
        )  # fmt: skip
    release_transition(
        release_id=release.pk,
        from_states=[Release.State.DISPATCHING],
        to_state=Release.State.FAILED,
        message="The dispatch was sent but no workflow run appeared for it",
        last_error=f"GitHub did not answer the dispatch, and no run named {release.run_name!r} "
        f"appeared within {window:.0f}s. Look at the repository's Actions runs: if none started, "
        "release again; if one did, it runs without Switchyard following it.",
    )
    raise IntegrationError(
        f"no run named {release.run_name!r} appeared after the lost dispatch",
        transient=False, system="github",
    )  # fmt: skip


def _workflow_inputs(release: Release) -> dict:
    inputs = {
        "service": release.component.name,
        "environment": release.environment.name,
        "version": release.version,
        "release_id": str(release.pk),
        "strategy": release.strategy,
        "callback_url": settings.SITE_URL,
    }
    if release.requested_by_id:
        inputs["actor"] = release.requested_by.get_username()
    if release.strategy == Release.Strategy.CANARY:
        # Argo Rollouts steps: the first weight waits for a person (promote, or an approval when
        # the environment has an approval policy); later ones pause for a while, then go on.
        # With an analysis policy every pause waits: the analysis lets a soaked step go on.
        analysed = AnalysisPolicy.objects.filter(environment=release.environment).exists()
        steps = []
        for index, weight in enumerate(release.steps):
            steps.append(str(weight))
            if weight < 100:
                steps.append("pause" if index == 0 or analysed else f"pause:{CANARY_STEP_PAUSE}")
        inputs["steps"] = ",".join(steps)
        if environment_gated(release.environment):
            inputs["approval"] = "required"
    return inputs


def _dispatch_failed(release: Release, exc: IntegrationError) -> None:
    if exc.transient:
        # Back to the queue: the task retries with backoff; the person sees why it waits.
        Release.objects.filter(pk=release.pk, state=Release.State.DISPATCHING).update(
            state=Release.State.QUEUED, last_error=f"GitHub: {exc.message}. Retrying."
        )
    else:
        release_transition(
            release_id=release.pk,
            from_states=[Release.State.DISPATCHING],
            to_state=Release.State.FAILED,
            message=f"The workflow could not start: {exc.message}",
            last_error=f"{exc}. Check the repository's deploy workflow and token, then "
            "release again.",
        )


def release_dispatch_give_up(*, release_id: int, error: str) -> None:
    release_transition(
        release_id=release_id,
        from_states=[Release.State.QUEUED, Release.State.DISPATCHING],
        to_state=Release.State.FAILED,
        message=f"Gave up starting the workflow: {error}",
        last_error=f"GitHub kept failing ({error}). Try again when GitHub is back.",
    )


def release_poll_run(*, release_id: int, listed=None) -> None:
    """Look at the outside world once and move the release forward if it moved.

    `listed` is the sweep's one listing of every Argo CD application (`applications_list`):
    with it, a release in Argo CD's hands costs one request (its Rollout) instead of two.
    """
    application = ComponentEnvironment.objects.filter(
        component=OuterRef("component"), environment=OuterRef("environment")
    ).values("argocd_application")[:1]
    release = (
        Release.objects.select_related("component", "environment")
        .annotate(argocd_app_name=Subquery(application))
        .filter(pk=release_id, state__in=Release.ACTIVE_STATES)
        .first()
    )
    if release is None:
        return
    try:
        if release.state == Release.State.RUNNING_WORKFLOW:
            changed = _poll_workflow(release)
        elif release.state in (
            Release.State.SYNCING,
            Release.State.PROGRESSING,
            Release.State.PAUSED,
        ):
            changed = _poll_argocd(release, listed)
        else:
            return
    except IntegrationError as exc:
        _poll_failed(release, exc)
        return
    if release.poll_failing_since:
        Release.objects.filter(pk=release.pk).update(poll_failing_since=None)
    release_poll_schedule(
        release_id=release.pk, changed=changed, interval_now=release.poll_interval, observed=True
    )


def _poll_failed(release: Release, exc: IntegrationError) -> None:
    """Record a failed poll; past the bound, fail the release with the reason (its target is
    free again) instead of leaving it active for ever."""
    now = timezone.now()
    since = release.poll_failing_since or now
    reason = (
        f"{exc.system or 'integration'} unreachable: {exc.message}" if exc.transient else str(exc)
    )
    bound = timedelta(seconds=settings.RELEASE_POLL_FAIL_AFTER_SECONDS)
    if now - since >= bound:
        minutes = int((now - since).total_seconds() // 60)
        release_transition(
            release_id=release.pk,
            from_states=[release.state],
            to_state=Release.State.FAILED,
            message=f"Polling failed for {minutes} min: {reason}"[:500],
            last_error=f"Switchyard could not follow this release for {minutes} minutes "
            f"({reason}). Check it in Argo CD / GitHub, then release again.",
        )
        return
    Release.objects.filter(pk=release.pk, state=release.state).update(
        last_error=f"{reason}. Still trying." if exc.transient else reason,
        poll_failing_since=since,
    )
    release_poll_schedule(release_id=release.pk, changed=False, interval_now=release.poll_interval)


def release_observe(*, release_id: int) -> None:
    """Read Argo CD for a release in the cluster now and record it (for a decision about to be
    sent: deployments/freshness.py); raises IntegrationError when Argo CD cannot be read."""
    release = Release.objects.select_related("component", "environment").get(pk=release_id)
    if release.state not in (
        Release.State.SYNCING,
        Release.State.PROGRESSING,
        Release.State.PAUSED,
    ):
        return
    changed = _poll_argocd(release)
    release_poll_schedule(release_id=release_id, changed=changed, observed=True)


def _poll_workflow(release: Release) -> bool:
    from integrations.github import github_client

    run = github_client().workflow_run_get(
        repository_slug(release.component), release.workflow_run_id
    )
    if not run.completed:
        # The workflow may wait (for an approval) after its GitOps step: once Argo CD runs the
        # new version, the release follows the rollout while the workflow waits.
        return _gitops_applied(release) and release_transition(
            release_id=release.pk,
            from_states=[Release.State.RUNNING_WORKFLOW],
            to_state=Release.State.SYNCING,
            message="The GitOps change is applied; the workflow is still running",
        )
    if run.succeeded:
        return release_transition(
            release_id=release.pk,
            from_states=[Release.State.RUNNING_WORKFLOW],
            to_state=Release.State.SYNCING,
            message="Workflow finished: the GitOps repository has the new version",
            last_error="",
        )
    return release_transition(
        release_id=release.pk,
        from_states=[Release.State.RUNNING_WORKFLOW],
        to_state=Release.State.FAILED,
        message=f"Workflow run ended: {run.conclusion}",
        last_error=f"The deploy workflow ended with “{run.conclusion}”: open the run for its log.",
    )


def _gitops_applied(release: Release) -> bool:
    from integrations.argocd import argocd_client

    app = argocd_client().application_get(_argocd_app(release))
    return any(image.endswith(f":{release.version}") for image in app.images)


def _argocd_app(release: Release) -> str:
    if getattr(release, "argocd_app_name", None):
        return release.argocd_app_name  # loaded with the release by release_poll_run
    target = release.component.deployments.filter(environment=release.environment).first()
    return (
        target and target.argocd_application
    ) or f"{release.component.name}-{release.environment.name}"


def _poll_argocd(release: Release, listed=None) -> bool:
    from integrations.argocd import argocd_client

    app = argocd_client().application_get(_argocd_app(release), listed=listed)
    rollout = app.rollout
    fields = {
        "sync_status": app.sync_status,
        "health_status": app.health_status,
        "rollout_phase": rollout.phase if rollout else "",
        "current_step": _weight_step(release, rollout),
        "set_weight": rollout.set_weight if rollout else None,
        "actual_weight": rollout.actual_weight if rollout else None,
        "status_message": (rollout.message if rollout else app.health_message)[:500],
        "last_error": "",
    }
    target_state, message = _argocd_state(release, app)
    if target_state and target_state != release.state:
        return release_transition(
            release_id=release.pk,
            from_states=[release.state],
            to_state=target_state,
            message=message,
            data={"sync": app.sync_status, "health": app.health_status},
            **fields,
        )
    seen = (release.sync_status, release.health_status, release.current_step, release.actual_weight)
    Release.objects.filter(pk=release.pk, state=release.state).update(**fields)
    return seen != (
        fields["sync_status"],
        fields["health_status"],
        fields["current_step"],
        fields["actual_weight"],
    )


def _weight_step(release: Release, rollout) -> int | None:
    """Which of the release's traffic steps the Rollout is at (its own index counts pauses)."""
    if rollout is None or rollout.set_weight is None:
        return None
    steps = release.steps
    return steps.index(rollout.set_weight) if rollout.set_weight in steps else None


def _argocd_state(release: Release, app) -> tuple[str | None, str]:
    rollout = app.rollout
    deployed = any(image.endswith(f":{release.version}") for image in app.images) or not app.images
    if app.sync_status != "Synced" or not deployed:
        return None, ""
    if rollout and rollout.aborted and release.is_restore:
        # The abort of the canary this restore replaced: its own sync starts a new revision.
        return None, ""
    if rollout and rollout.aborted:
        return (
            Release.State.ABORTED,
            f"The rollout was aborted: {rollout.message or 'no reason given'}",
        )
    if app.health_status == "Degraded":
        return (
            Release.State.FAILED,
            f"Argo CD reports the application degraded: {app.health_message}",
        )
    if rollout and rollout.paused:
        weight = rollout.set_weight if rollout.set_weight is not None else "?"
        why = ", ".join(pause_reason_text(r) for r in rollout.pause_reasons) or "waiting"
        return Release.State.PAUSED, f"Paused at {weight}% ({why})"
    if app.health_status == "Healthy" and (rollout is None or rollout.completed):
        return (
            Release.State.SUCCEEDED,
            f"{release.version} is live and healthy in {release.environment}",
        )
    return Release.State.PROGRESSING, "Argo CD synced; rolling out"


def release_signal_send(*, release_id: int, signal: str) -> None:
    """Send promote ("resume"), "promote-full" or "abort" to the release's Rollout via Argo CD."""
    from integrations.argocd import argocd_client

    release = Release.objects.select_related("component", "environment").get(pk=release_id)
    argocd_client().rollout_action(_argocd_app(release), signal)
    if release.signal_error:
        Release.objects.filter(pk=release_id).update(signal_error="")
    release_poll_schedule(release_id=release_id, changed=True)


def releases_due(*, limit: int = 500) -> list[int]:
    """Claim the active releases whose poll time has come (a lease, so ticks don't overlap)."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Release.objects.select_for_update(skip_locked=True)
            .filter(
                state__in=[
                    Release.State.RUNNING_WORKFLOW,
                    Release.State.SYNCING,
                    Release.State.PROGRESSING,
                    Release.State.PAUSED,
                ],
                next_poll_at__lte=now,
            )
            .order_by("next_poll_at")
            .values_list("pk", flat=True)[:limit]
        )
        Release.objects.filter(pk__in=due).update(next_poll_at=now + POLL_LEASE)
    return due


def releases_stuck() -> list[int]:
    """Queued or dispatching releases untouched for a while: their task was lost."""
    cutoff = timezone.now() - STUCK_AFTER
    stuck = Release.objects.filter(state=Release.State.DISPATCHING, updated_at__lt=cutoff)
    # Back to queued, each with its line in the timeline: the dispatch step first looks for a
    # run by name, so none is started twice.
    requeued = [
        release_id
        for release_id in stuck.values_list("pk", flat=True)
        if release_transition(
            release_id=release_id,
            from_states=[Release.State.DISPATCHING],
            to_state=Release.State.QUEUED,
            message="The dispatch was interrupted (its worker stopped): queued again. The "
            "workflow run is looked up by name first, so it is not started twice.",
            where={"updated_at__lt": cutoff},
        )
    ]
    queued = Release.objects.filter(state=Release.State.QUEUED, updated_at__lt=cutoff)
    return requeued + [pk for pk in queued.values_list("pk", flat=True) if pk not in requeued]


def release_signal_failed(*, release_id: int, signal: str, error: str, revert: bool = True) -> None:
    """The Rollout did not take the signal: say so on the release, where people look.

    A refused promote leaves the Rollout paused, so the release goes back to paused once, with
    the reason in its timeline, instead of flipping between progressing and paused as polls
    and the optimistic promote disagree.
    """
    text = (
        f"Argo CD refused “{signal}”: {error}. Nothing moved; try again, or act on the "
        "rollout in Argo CD (kubectl argo rollouts)."
    )[:500]
    Release.objects.filter(pk=release_id).update(signal_error=text)
    if revert and signal != "abort":
        release_transition(
            release_id=release_id,
            from_states=[Release.State.PROGRESSING],
            to_state=Release.State.PAUSED,
            message=text,
        )


def release_decision_apply(
    *,
    release_id: int,
    decision: str,
    approval_id: int,
    decider: str,
    comment: str = "",
    weight: int | None = None,
) -> bool:
    """A decision was made on the release's approval: move the paused release and signal its
    Rollout. False (nothing moved, nothing sent) when the release is no longer paused at the
    step the approval was about.

    The caller passes who decided (`decider`, "" for an expiry) and the comment: releases know
    nothing of approvals. Raises IntegrationError for the caller to retry; a retry finds its
    own transition in the timeline and only re-sends the signal.
    """
    if decider:
        verb = {"abort": "aborted", "promote-full": "promoted fully"}.get(decision, "approved")
        message = f"{decider} {verb} (approval #{approval_id})"
        message += f": {comment}" if comment else ""
    else:
        message = f"Approval #{approval_id} expired without a decision: aborted"
    release = Release.objects.get(pk=release_id)
    fields, where = {}, {}
    if decision == "abort":
        fields["status_message"] = release_aborted_status(release)
    elif weight is not None and release.set_weight is not None:
        # Paused at the step the approval was about: a late approval of an earlier step
        # must not push a later pause along.
        where["set_weight"] = weight
    moved = release_transition(
        release_id=release_id,
        from_states=[Release.State.PAUSED],
        to_state=Release.State.ABORTED if decision == "abort" else Release.State.PROGRESSING,
        message=message,
        data={"approval": approval_id, "decision": decision},
        where=where,
        **fields,
    )
    if (
        not moved
        and not ReleaseEvent.objects.filter(
            release_id=release_id, data__approval=approval_id
        ).exists()
    ):
        return False
    try:
        release_signal_send(release_id=release_id, signal=APPROVAL_SIGNAL[decision])
    except IntegrationError as exc:
        if not exc.transient:
            # Shown on the release page too; the approval's signal keeps its own state.
            release_signal_failed(
                release_id=release_id,
                signal=APPROVAL_SIGNAL[decision],
                error=str(exc),
                revert=False,
            )
        raise
    return True


def releases_sweep(release_ids: list[int], *, concurrency: int | None = None) -> None:
    """Poll many releases at once: the time goes into waiting on Argo CD and GitHub, so one
    listing of every Argo CD application and a few threads (each with its own kept-alive
    HTTP session) keep a sweep of hundreds of releases inside beat's interval."""
    concurrency = concurrency or settings.RELEASE_POLL_CONCURRENCY
    listed = _argocd_listed() if len(release_ids) > 1 else None
    if concurrency <= 1 or len(release_ids) < 2 or connection.vendor != "postgresql":
        # SQLite (the embedded default) serialises writers: threads would only queue up.
        for release_id in release_ids:
            release_poll_run(release_id=release_id, listed=listed)
        return
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda pk: _poll_in_thread(pk, listed), release_ids))


def _argocd_listed():
    """One listing for the whole sweep; if it fails, each release asks (and reports) itself."""
    from integrations.argocd import argocd_client

    try:
        return argocd_client().applications_list()
    except IntegrationError as exc:
        logger.warning("listing Argo CD applications failed, polling one by one: %s", exc)
        return None


def _poll_in_thread(release_id: int, listed) -> None:
    try:
        release_poll_run(release_id=release_id, listed=listed)
    except Exception:  # noqa: BLE001 - one release's surprise must not stop the others
        logger.exception("polling release %s failed", release_id)
    finally:
        connection.close()
