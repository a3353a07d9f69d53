"""Send a decision back to whoever waits: the release (and its Argo Rollout) and GitHub.

The workflow that polls `GET /api/approvals/<id>` needs nothing sent. The parts delivered are
recorded in `signal_sent`, so a retry after a partial failure sends only the rest: a second
"resume" would skip the Rollout's next pause, and GitHub refuses a second review of a run.
"""

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from integrations.errors import IntegrationError

from .models import ApprovalRequest

ROLLOUT_ACTION = {"approve": "resume", "promote-full": "promote-full", "abort": "abort"}
# What the waiting side is told: a break-glass override resumes like an approval.
SIGNAL_DECISION = {"break-glass": "approve"}


class ReleaseMovedOn(Exception):
    """The release is no longer paused where the decision was made: nothing is sent."""


def approval_signal_send(*, approval_id: int) -> None:
    """Send the decision of `approval_id`; raises IntegrationError for the task to retry."""
    claimed = ApprovalRequest.objects.filter(
        pk=approval_id, signal_state__in=["pending", "failed"]
    ).update(
        signal_state=ApprovalRequest.SignalState.SENDING,
        signal_attempts=F("signal_attempts") + 1,
        signal_claimed_at=timezone.now(),
    )
    if not claimed:
        # Being sent by another worker, already sent, given up, or nothing to send: a
        # duplicate delivery of the task does nothing.
        return
    approval = ApprovalRequest.objects.select_related("release", "component", "environment").get(
        pk=approval_id
    )
    decision = approval.decision or "abort"  # an expired request that aborts on expiry
    decision = SIGNAL_DECISION.get(decision, decision)
    sent = list(approval.signal_sent or [])
    try:
        for part, send in (("rollout", _signal_release), ("github", _signal_github)):
            if part in sent:
                continue  # delivered by an earlier attempt: sending it again would act twice
            send(approval, decision)
            sent.append(part)
            ApprovalRequest.objects.filter(pk=approval_id).update(signal_sent=sent)
    except ReleaseMovedOn as moved:
        ApprovalRequest.objects.filter(pk=approval_id).update(
            signal_state=ApprovalRequest.SignalState.SKIPPED, signal_error=str(moved)[:2000]
        )
        return
    except IntegrationError as exc:
        ApprovalRequest.objects.filter(pk=approval_id).update(
            signal_state=ApprovalRequest.SignalState.FAILED, signal_error=str(exc)[:2000]
        )
        raise
    ApprovalRequest.objects.filter(pk=approval_id).update(
        signal_state=ApprovalRequest.SignalState.SENT, signal_error=""
    )


CLAIM_STALE_AFTER = timedelta(minutes=3)


def approval_signals_reclaim() -> list[int]:
    """Signals claimed by a worker that died mid-send: mark them failed so they are sent again.

    The parts already delivered are in `signal_sent`, so the resend completes only the rest.
    """
    stale = ApprovalRequest.objects.filter(
        signal_state=ApprovalRequest.SignalState.SENDING,
        signal_claimed_at__lt=timezone.now() - CLAIM_STALE_AFTER,
    )
    ids = list(stale.values_list("pk", flat=True))
    ApprovalRequest.objects.filter(pk__in=ids, signal_state="sending").update(
        signal_state=ApprovalRequest.SignalState.FAILED,
        signal_error="The worker sending this signal stopped; sending again.",
    )
    return ids


UNSENT_AFTER = timedelta(minutes=1)
FAILED_RESEND_AFTER = timedelta(minutes=6)  # past the task's own longest retry countdown


def approval_signals_unsent() -> list[int]:
    """Decided requests whose signal task never ran (lost before the broker, or its retries
    lost with a worker): beat sends them again. The send claims with a conditional update and
    skips parts already delivered, so an extra delivery does nothing twice."""
    now = timezone.now()
    pending = ApprovalRequest.objects.filter(
        signal_state=ApprovalRequest.SignalState.PENDING, decided_at__lt=now - UNSENT_AFTER
    )
    failed = ApprovalRequest.objects.filter(
        signal_state=ApprovalRequest.SignalState.FAILED,
        signal_claimed_at__lt=now - FAILED_RESEND_AFTER,
    )
    return list(pending.values_list("pk", flat=True)) + list(failed.values_list("pk", flat=True))


def approval_signals_unheld(*, release_id: int | None = None) -> list[int]:
    """Decisions held until their release paused at their step: those whose release is paused
    there now, with the step's analysis gate open (soaked and not failed), become "to send"
    (returned, for the caller to send); those whose release ended or went past the step are
    skipped with the reason. Conditional updates: run twice, acts once."""
    from deployments.analysis.selectors import analysis_gate_open
    from deployments.models import Release

    from .services.decisions import release_heads_to, release_waits_on

    held = ApprovalRequest.objects.select_related("release").filter(
        signal_state=ApprovalRequest.SignalState.HELD
    )
    if release_id is not None:
        held = held.filter(release_id=release_id)
    ready = []
    for approval in held:
        release = approval.release or Release(state=Release.State.SUCCEEDED)
        if release_waits_on(release, approval):
            if not analysis_gate_open(release)[0]:
                continue  # soaking: beat looks again
            if ApprovalRequest.objects.filter(pk=approval.pk, signal_state="held").update(
                signal_state=ApprovalRequest.SignalState.PENDING
            ):
                ready.append(approval.pk)
        elif not release_heads_to(release, approval):
            ApprovalRequest.objects.filter(pk=approval.pk, signal_state="held").update(
                signal_state=ApprovalRequest.SignalState.SKIPPED,
                signal_error=f"The release never paused at {approval.rollout_phase} (it is "
                f"{release.get_state_display().lower()}): nothing was sent.",
            )
    return ready


def approval_signal_give_up(*, approval_id: int, error: str) -> None:
    ApprovalRequest.objects.filter(pk=approval_id).exclude(signal_state="sent").update(
        signal_state=ApprovalRequest.SignalState.GAVE_UP,
        signal_error=f"Gave up: {error}"[:2000],
    )


def _signal_release(approval: ApprovalRequest, decision: str) -> None:
    """A Switchyard release moves through its own state machine, which signals the Rollout."""
    from deployments.releases import machine

    if approval.release_id:
        moved = machine.release_decision_apply(
            release_id=approval.release_id,
            decision=decision,
            approval_id=approval.pk,
            decider=approval.decided_by.get_username() if approval.decided_by else "",
            comment=f"BREAK-GLASS override: {approval.comment}"
            if approval.decision == ApprovalRequest.Decision.BREAK_GLASS
            else approval.comment,
            weight=approval.weight,
        )
        if not moved:
            raise ReleaseMovedOn(
                "The release was no longer paused at this step when the decision was sent: "
                "nothing was sent to Argo CD or GitHub."
            )
        return
    application = (approval.signal.get("rollout") or {}).get("application")
    if application:
        from integrations.argocd import argocd_client

        argocd_client().rollout_action(application, ROLLOUT_ACTION[decision])


def _signal_github(approval: ApprovalRequest, decision: str) -> None:
    """Review the run's pending deployments (GitHub environment protection) if it waits."""
    github = approval.signal.get("github") or {}
    if not github.get("repo") or not github.get("run_id"):
        return
    from integrations.github import github_client

    comment = f"{approval.get_state_display()} in Switchyard"
    if approval.decided_by:
        comment += f" by {approval.decided_by.get_username()}"
    names = [github["environment_name"]] if github.get("environment_name") else None
    github_client().pending_deployments_review(
        github["repo"],
        int(github["run_id"]),
        approve=decision != "abort",
        comment=comment,
        environments=names,
    )
