"""Celery entry points for approvals."""

from celery import shared_task

from integrations.errors import IntegrationError

from . import services, signalling, slack_interactions


@shared_task(name="approvals.approval_signal", bind=True, max_retries=8)
def approval_signal(self, approval_id: int) -> None:
    """Tell the waiting side about a decision; retried with backoff while it is transient."""
    try:
        signalling.approval_signal_send(approval_id=approval_id)
    except IntegrationError as exc:
        if exc.transient and self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=min(300, 2 ** (self.request.retries + 1)))
        signalling.approval_signal_give_up(approval_id=approval_id, error=str(exc))


@shared_task(name="approvals.approvals_expire")
def approvals_expire() -> int:
    """Beat, every 15 s: close expired requests (never approve them), and resend signals
    whose worker died half way or whose task never reached a worker, and send decisions held
    until their release paused (in case the pause's own nudge was lost), and hand Slack clicks
    that stalled (task lost, worker killed) to their task again."""
    resend = (
        signalling.approval_signals_reclaim()
        + signalling.approval_signals_unsent()
        + signalling.approval_signals_unheld()
    )
    for approval_id in dict.fromkeys(resend):
        approval_signal.delay(approval_id)
    for interaction_id in slack_interactions.slack_interactions_stalled():
        slack_interaction_decide.delay(interaction_id)
    return services.approval_expire_due()


@shared_task(name="approvals.approval_signals_release")
def approval_signals_release(release_id: int) -> None:
    """The release paused: send the decisions that were held until it paused at their step."""
    for approval_id in signalling.approval_signals_unheld(release_id=release_id):
        approval_signal.delay(approval_id)


@shared_task(name="approvals.slack_interaction_decide", bind=True, max_retries=5)
def slack_interaction_decide(self, interaction_id: int) -> str:
    """Decide a click on a Slack button (once: claimed by a conditional update) and answer it
    through its response_url; only the answer is retried, with backoff, while transient."""
    try:
        return slack_interactions.slack_interaction_run(interaction_id=interaction_id)
    except IntegrationError as exc:
        if exc.transient and self.request.retries < self.max_retries:
            raise self.retry(countdown=min(60, 2 ** (self.request.retries + 1)))
        slack_interactions.slack_interaction_give_up(interaction_id=interaction_id, error=str(exc))
        return "failed"
