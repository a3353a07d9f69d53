"""Deciding from Slack: the Approve / Abort buttons of the team channel's message.

Slack's request is verified first, in the request (v0 signature with the signing secret,
five-minute window, constant-time compare: `integrations.slack.signature_valid`); a forged or
stale one is refused (401) and audited. A verified click is stored (`SlackInteraction`, keyed by
Slack's trigger id) and acknowledged at once: Slack wants its 200 within 3 s, and the decision
may read Argo CD and PagerDuty first. The Celery task `approvals.slack_interaction_decide` then
maps the Slack user to a Switchyard person (stored link, else users.info by email) and runs the
*same* decision service as the approval page, with the channel recorded in the audit row; the
answer goes back privately through the interaction's response_url. A duplicate delivery of the
click finds its row and decides nothing; a duplicate task finds the row claimed. Slack being
unable to take the answer never undoes the decision. A click that has not moved for
`STALLED_AFTER` (its task lost with the broker, or its worker killed while deciding or before
answering) is handed to the task again by beat (`slack_interactions_stalled`).
"""

import json
import logging
import time
from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse
from django.http.request import RawPostDataException
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from integrations.errors import IntegrationError
from integrations.slack import response_send, signature_valid
from notifications.slack import slack_user_resolve
from portal.audit import AuditContext, audit_record, client_ip
from portal.decorators import mutating
from portal.errors import PermissionDenied, PortalError
from portal.models import AuditEvent

from . import services
from .models import ApprovalRequest, SlackInteraction, SlackRefusalWindow
from .slack import ACTIONS

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 5 * 60
# Longer than a decision takes (its Argo CD and PagerDuty reads time out well before) and than
# the answer's retries (about a minute); well inside the 30 minutes a response_url is valid.
STALLED_AFTER = timedelta(minutes=3)


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
        why = _why_unverified(request)
        if slack_refusal_count(ip_address=context.ip_address, reason=why.split()[0]):
            _refusal(None, f"slack:{_claimed_user(request)}", why, context)
        return HttpResponse("The request is not signed by Slack.", status=401)
    try:
        payload = json.loads(request.POST.get("payload", ""))
        action = payload["actions"][0]
        if not (payload["user"]["id"] and payload["team"]["id"]):
            raise KeyError("user or team")
    except (ValueError, KeyError, IndexError, TypeError):
        return HttpResponse("Not an interaction payload.", status=400)
    if payload.get("type") != "block_actions" or action.get("action_id") not in ACTIONS:
        return HttpResponse(status=200)  # "Open in Switchyard" and other buttons: nothing to do
    slack_interaction_receive(payload=payload, context=context)
    return HttpResponse(status=200)  # the person reads the outcome in the ephemeral answer


def interaction_key(payload: dict) -> str:
    """Slack's trigger id of the click (one per click, repeated by a duplicate delivery);
    without one, the user, the action and its timestamp."""
    trigger = str(payload.get("trigger_id") or "")
    if trigger:
        return f"trigger:{trigger}"[:200]
    action = payload["actions"][0]
    return f"action:{payload['team']['id']}:{payload['user']['id']}:{action.get('action_id')}:" \
        f"{action.get('action_ts', '')}"[:200]  # fmt: skip


def slack_interaction_receive(*, payload: dict, context: AuditContext) -> SlackInteraction | None:
    """Store a verified click and decide it in a Celery task once stored. Returns the new row,
    or None for a duplicate delivery of a click already stored (nothing more happens)."""
    from .tasks import slack_interaction_decide

    action = payload["actions"][0]
    with transaction.atomic():
        row, created = SlackInteraction.objects.get_or_create(
            key=interaction_key(payload),
            defaults={
                "slack_id": str(payload["user"]["id"])[:40],
                "team_id": str(payload["team"]["id"])[:40],
                "action_id": str(action["action_id"])[:60],
                "value": str(action.get("value", ""))[:60],
                "response_url": str(payload.get("response_url") or "")[:500],
                "request_id": context.request_id[:64],
                "ip_address": context.ip_address,
            },
        )
        if created:
            transaction.on_commit(lambda: slack_interaction_decide.delay(row.pk), robust=True)
    return row if created else None


def slack_interaction_run(*, interaction_id: int) -> str:
    """The task's work: claim the click (received → deciding; a duplicate task claims nothing),
    decide it through the decision service, then send the answer. A transient failure to
    answer raises IntegrationError for the task to retry: the retry only answers again."""
    now = timezone.now()
    rows = SlackInteraction.objects.filter(pk=interaction_id)
    if rows.filter(state=SlackInteraction.State.RECEIVED).update(
        state=SlackInteraction.State.DECIDING, updated_at=now
    ):
        row = rows.get()
        context = AuditContext(request_id=row.request_id, ip_address=row.ip_address,
                               channel="slack")  # fmt: skip
        text = slack_decide(
            slack_id=row.slack_id, team_id=row.team_id,
            action={"action_id": row.action_id, "value": row.value}, context=context,
        )  # fmt: skip
        rows.update(state=SlackInteraction.State.ANSWERING, answer=text, updated_at=timezone.now())
    row = rows.first()
    if row is None or row.state != SlackInteraction.State.ANSWERING:
        return row.state if row else "gone"
    if row.response_url:
        response_send(row.response_url, text=row.answer)
    rows.update(state=SlackInteraction.State.ANSWERED, error="", updated_at=timezone.now())
    return SlackInteraction.State.ANSWERED


def slack_interactions_stalled(*, now=None, limit: int = 100) -> list[int]:
    """Beat's safety net: the clicks that have not moved for `STALLED_AFTER`, to hand to the
    task again. One whose worker died while deciding goes back to received: run again, the
    decision service refuses what was already decided ("Already approved by …"), so nothing
    is decided twice. Each is handed on at most once per `STALLED_AFTER` (its clock restarts)."""
    now = now or timezone.now()
    State = SlackInteraction.State
    stalled = SlackInteraction.objects.filter(
        state__in=[State.RECEIVED, State.DECIDING, State.ANSWERING],
        updated_at__lt=now - STALLED_AFTER,
    )
    handed = []
    for pk, state in stalled.order_by("updated_at").values_list("pk", "state")[:limit]:
        # Conditional: a row that moved meanwhile (or that another beat took) is left alone.
        moved_on = State.RECEIVED if state == State.DECIDING else state
        if stalled.filter(pk=pk, state=state).update(state=moved_on, updated_at=now):
            logger.warning("Slack click %s stalled %s: handed to its task again", pk, state)
            handed.append(pk)
    return handed


def slack_interaction_give_up(*, interaction_id: int, error: str) -> None:
    """The answer could not be delivered (the decision stands): say so on the row."""
    logger.warning("Slack did not take the answer of interaction %s: %s", interaction_id, error)
    SlackInteraction.objects.filter(
        pk=interaction_id, state=SlackInteraction.State.ANSWERING
    ).update(state=SlackInteraction.State.FAILED, error=error[:1000], updated_at=timezone.now())


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


def slack_refusal_count(*, ip_address: str | None, reason: str) -> bool:
    """Count an unverified request refused from `ip_address` for `reason` (unsigned, stale,
    forged, malformed) in this minute; True for the first one, which alone is audited. Windows
    older than a day are deleted as new ones open."""
    minute = timezone.now().replace(second=0, microsecond=0)
    with transaction.atomic():
        window, created = SlackRefusalWindow.objects.get_or_create(
            ip_address=(ip_address or "")[:45], reason=reason[:20], minute=minute
        )
        if not created:
            SlackRefusalWindow.objects.filter(pk=window.pk).update(count=F("count") + 1)
            return False
        SlackRefusalWindow.objects.filter(minute__lt=minute - timedelta(days=1)).delete()
    return True


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
