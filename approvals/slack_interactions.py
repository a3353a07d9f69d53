"""Deciding from Slack: the Approve / Abort buttons of the team channel's message.

Slack's request is verified first (v0 signature with the signing secret, five-minute window,
constant-time compare: `integrations.slack.signature_valid`); a forged or stale one is refused
(401) and audited. The Slack user is mapped to a Switchyard person (stored link, else users.info
by email); then the *same* decision service runs as on the approval page, with the channel
recorded in the audit row. The answer goes back privately through the interaction's
response_url; Slack being unable to take it never undoes the decision.
"""

import json
import logging
import time

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.http.request import RawPostDataException
from django.views.decorators.csrf import csrf_exempt

from integrations.errors import IntegrationError
from integrations.slack import response_send, signature_valid
from notifications.slack import slack_user_resolve
from portal.audit import AuditContext, audit_record, client_ip
from portal.decorators import mutating
from portal.errors import PermissionDenied, PortalError
from portal.models import AuditEvent

from . import services
from .models import ApprovalRequest
from .slack import ACTIONS

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 5 * 60


@csrf_exempt
@login_not_required
@mutating
def slack_interaction(request):
    """Slack's interactivity request URL. Answers 200 to every verified request (Slack shows
    its own error otherwise); the person reads the outcome in the ephemeral answer."""
    context = AuditContext(
        request_id=getattr(request, "request_id", ""), ip_address=client_ip(request),
        channel="slack",
    )  # fmt: skip
    try:
        body = request.body
    except RawPostDataException:  # a multipart body, read already: never what Slack sends
        body = b""
    if not body or not signature_valid(body, request.headers):
        _refusal(None, f"slack:{_claimed_user(request)}", _why_unverified(request), context)
        return HttpResponse("The request is not signed by Slack.", status=401)
    try:
        payload = json.loads(request.POST.get("payload", ""))
        action = payload["actions"][0]
        slack_id, team_id = payload["user"]["id"], payload["team"]["id"]
        response_url = payload.get("response_url", "")
    except (ValueError, KeyError, IndexError, TypeError):
        return HttpResponse("Not an interaction payload.", status=400)
    if payload.get("type") != "block_actions" or action.get("action_id") not in ACTIONS:
        return HttpResponse(status=200)  # "Open in Switchyard" and other buttons: nothing to do
    text = slack_decide(
        slack_id=str(slack_id), team_id=str(team_id), action=action, context=context
    )
    if response_url:
        try:
            response_send(response_url, text=text)
        except IntegrationError as exc:
            logger.warning("Slack did not take the answer to %s: %s", slack_id, exc)
    return HttpResponse(status=200)


def slack_decide(*, slack_id: str, team_id: str, action: dict, context: AuditContext) -> str:
    """Who clicked, then the decision service. Returns the sentence the person sees."""
    label = f"slack:{slack_id}"
    value = str(action.get("value", ""))
    approval = (
        ApprovalRequest.objects.select_related("component__owner", "environment")
        .filter(pk=int(value) if value.isdigit() else 0)
        .first()
    )
    if approval is None:
        return "This approval request no longer exists in Switchyard."
    try:
        actor = slack_user_resolve(slack_id=slack_id, team_id=team_id)
    except IntegrationError:
        actor = None
    if actor is None:
        message = (
            "Switchyard does not know your Slack account: no active Switchyard account has "
            "your Slack email address. Nothing was decided. Sign in to Switchyard once with "
            "that address, or decide on the approval page."
        )
        _refusal(approval, label, message, context)
        return message
    decision = ACTIONS[action["action_id"]]
    try:
        decided = services.approval_decide(
            actor=actor, approval=approval, decision=decision, comment="", context=context
        )
    except PermissionDenied as exc:  # audited by the rule check
        return f"Refused: {exc.message} Nothing was decided."
    except PortalError as exc:
        return f"Nothing was decided: {exc.message}"
    where = f"{approval.component.name} in {approval.environment.name}"
    if decided.state == ApprovalRequest.State.PENDING:
        votes = decided.votes.count()
        return f"Your approval of {where} is recorded ({votes} of {decided.quorum})."
    return f"{decided.get_state_display()}: {where}, by you. The waiting workflow is being told."


def _refusal(approval, label: str, reason: str, context: AuditContext) -> None:
    audit_record(
        actor=None,
        actor_label=label,
        action="slack.interaction",
        target=approval,
        outcome=AuditEvent.Outcome.DENIED,
        component=approval.component if approval else None,
        environment=approval.environment.name if approval else "",
        reason=reason,
        context=context,
    )


def _why_unverified(request) -> str:
    stamp = request.headers.get("X-Slack-Request-Timestamp", "")
    if not stamp or not request.headers.get("X-Slack-Signature"):
        return "unsigned request: no Slack signature headers"
    try:
        age = abs(time.time() - int(stamp))
    except ValueError:
        return "malformed Slack timestamp"
    if age > WINDOW_SECONDS:
        return f"stale Slack request: signed {int(age)} s ago (more than {WINDOW_SECONDS} s)"
    return "forged Slack request: the signature does not match the signing secret"


def _claimed_user(request) -> str:
    """Who the unverified payload says it is, for the audit row only (never trusted)."""
    try:
        return str(json.loads(request.POST.get("payload", ""))["user"]["id"])[:40]
    except (ValueError, KeyError, TypeError):
        return "unknown"
