"""An approval as the owning team's Slack channel shows it: the evidence summary and Approve /
Abort buttons while it waits, what became of it once decided or expired (the same message,
updated). Registered as the Slack renderer of "approval:<pk>" notifications by AppConfig.ready().

Rendered at send time, in the Celery task: Prometheus or PagerDuty being down makes a line say
so, never a message unsent.
"""

from django.utils import timezone

from notifications.slack import SlackMessage, link, slack_mentions

from .models import ApprovalRequest
from .selectors import approval_decided_via

APPROVE, ABORT = "approval_approve", "approval_abort"
ACTIONS = {APPROVE: ApprovalRequest.Decision.APPROVE, ABORT: ApprovalRequest.Decision.ABORT}


def approval_evidence(approval: ApprovalRequest) -> dict[str, str]:
    """The summary beside the buttons, as lines of text: phase, error rates new vs stable,
    open incidents on the service and its blast radius, blast radius size, time left."""
    from catalog.selectors import blast_radius
    from oncall.selectors import blast_incidents

    facts = {"Phase": approval.rollout_phase}
    facts["Error rate"] = _error_rates(approval)
    incidents = blast_incidents(approval.component)
    if incidents.problem:
        facts["Open incidents"] = "unknown: PagerDuty could not be asked"
    elif not incidents.services:
        facts["Open incidents"] = "no PagerDuty service mapped"
    else:
        high = len(incidents.high)
        facts["Open incidents"] = f"{len(incidents.rows)} ({high} high urgency) on the service " \
            "and its blast radius"  # fmt: skip
    radius = blast_radius(approval.component)
    facts["Blast radius"] = f"{radius.total} dependent service{'s' * (radius.total != 1)}, " \
        f"{radius.team_count} team{'s' * (radius.team_count != 1)}"  # fmt: skip
    left = int((approval.expires_at - timezone.now()).total_seconds() // 60)
    facts["Time left"] = (
        f"{left} min (expires {approval.expires_at:%H:%M} UTC)" if left >= 0 else "expired"
    )
    return facts


def _error_rates(approval: ApprovalRequest) -> str:
    if approval.release_id is None:
        return "no release attached"
    from deployments.releases.selectors import error_rate_sparklines

    lines, problem = error_rate_sparklines(approval.release, minutes=5)
    if problem:
        return "unknown: Prometheus could not be asked"
    shown = [
        f"{line.label} {line.version} {line.last_percent:.2f} %"
        if line.last_percent is not None
        else f"{line.label} {line.version} no data"
        for line in lines
    ]
    return " vs ".join(shown) or "no data"


def approval_slack_message(row) -> SlackMessage | None:
    """The renderer for every "approval:<pk>" row: the message as the request stands now."""
    pk = row.key.partition(":")[2]
    approval = (
        ApprovalRequest.objects.select_related(
            "component__owner", "environment", "release", "decided_by"
        )  # fmt: skip
        .filter(pk=pk if pk.isdigit() else 0)
        .first()
    )
    if approval is None:
        return None
    where = f"{approval.component.name} in {approval.environment.name}"
    url = link(approval.get_absolute_url())
    open_button = {"type": "button", "action_id": "open", "url": url,
                   "text": {"type": "plain_text", "text": "Open in Switchyard"}}  # fmt: skip
    if approval.state != ApprovalRequest.State.PENDING:
        outcome = decision_line(approval)
        return SlackMessage(text=f"{where}: {outcome}", blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{where}*: {outcome}"}},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"{approval.rollout_phase} · {approval.to_version}"}]},
            {"type": "actions", "block_id": f"approval:{approval.pk}", "elements": [open_button]},
        ])  # fmt: skip
    if row.event == "approval.expiring":
        return None  # the default: a short reminder with the link
    return _pending_message(approval, where, open_button)


def _pending_message(approval: ApprovalRequest, where: str, open_button: dict) -> SlackMessage:
    """Who asks, who may decide, the evidence, and the buttons."""
    from notifications.services import eligible_approvers

    mentions = " ".join(slack_mentions(eligible_approvers(approval)))
    asks = f"*{approval.requester_label or 'A release'}* asks to promote *{where}* " \
        f"{approval.to_version or ''}".strip()  # fmt: skip
    facts = approval_evidence(approval)
    return SlackMessage(text=f"Approve {where}? ({approval.rollout_phase})", blocks=[
        {"type": "header", "text": {"type": "plain_text", "text": f"Approve {where}?"[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": asks + (
            f"\nWho may decide: {mentions}" if mentions else "")}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in facts.items()]},
        {"type": "actions", "block_id": f"approval:{approval.pk}", "elements": [
            {"type": "button", "action_id": APPROVE, "value": str(approval.pk),
             "style": "primary", "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": ABORT, "value": str(approval.pk), "style": "danger",
             "text": {"type": "plain_text", "text": "Abort"},
             "confirm": {"title": {"type": "plain_text", "text": "Abort the release?"},
                         "text": {"type": "plain_text", "text": "Traffic goes back to stable."},
                         "confirm": {"type": "plain_text", "text": "Abort"},
                         "deny": {"type": "plain_text", "text": "Keep it"}}},
            open_button,
        ]},
    ])  # fmt: skip


def decision_line(approval: ApprovalRequest) -> str:
    """ "*approved* by bob (from Slack) at 13:05 UTC: looks fine", or expired."""
    if approval.state == ApprovalRequest.State.EXPIRED:
        return f"expired at {approval.decided_at or approval.expires_at:%H:%M} UTC, not approved"
    channel = approval_decided_via(approval)
    who = approval.decided_by.get_username() if approval.decided_by else "someone"
    verb = {
        ApprovalRequest.Decision.APPROVE: "approved",
        ApprovalRequest.Decision.PROMOTE_FULL: "promoted fully",
        ApprovalRequest.Decision.ABORT: "aborted",
        ApprovalRequest.Decision.BREAK_GLASS: "let through (break-glass)",
    }.get(approval.decision, approval.get_state_display().lower())
    said = f": {approval.comment}" if approval.comment else ""
    when = f" at {approval.decided_at:%H:%M} UTC" if approval.decided_at else ""
    source = f" (from {channel.capitalize()})" if channel else ""
    return f"*{verb}* by {who}{source}{when}{said}"
