"""The machine API that workflows call at their pause point (documented in openapi.yaml)."""

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from portal.audit import AuditContext, audit_record
from portal.models import AuditEvent

from . import services
from .api_schema import OPENAPI, MalformedRequest, body_parse, request_check
from .machine_auth import MachineAuthError, machine_authenticate
from .models import ApprovalRequest
from .services import ApprovalRefused


def machine_endpoint(method: str):
    """A machine API view: no session or CSRF, one method, and a JSON 405 for any other."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method != method:
                answer = JsonResponse({"error": f"use {method} on this URL"}, status=405)
                answer["Allow"] = method
                return answer
            return view(request, *args, **kwargs)

        return csrf_exempt(login_not_required(wrapper))

    return decorate


def approval_json(approval: ApprovalRequest) -> dict:
    return {
        "id": approval.pk,
        "service": approval.component.name,
        "environment": approval.environment.name,
        "rollout_phase": approval.rollout_phase,
        "state": approval.state,
        "decision": approval.decision or None,
        "decided_by": approval.decided_by.get_username() if approval.decided_by else None,
        "decided_at": approval.decided_at.isoformat() if approval.decided_at else None,
        "comment": approval.comment,
        "expires_at": approval.expires_at.isoformat(),
        "release_id": approval.release_id,
        "url": approval.get_absolute_url(),
    }


def _refuse(request, error: MachineAuthError) -> JsonResponse:
    label = f"machine:{error.client.name}" if error.client else "machine:unknown"
    audit_record(
        actor=None,
        actor_label=label,
        action="api.authenticate",
        outcome=AuditEvent.Outcome.DENIED,
        reason=error.message,
        context=AuditContext.from_request(request),
    )
    return JsonResponse({"error": error.message}, status=error.status)


def _malformed(request, client, error: MalformedRequest) -> JsonResponse:
    audit_record(
        actor=None,
        actor_label=f"machine:{client.name}",
        action="api.validate",
        outcome=AuditEvent.Outcome.DENIED,
        reason=error.message,
        context=AuditContext.from_request(request),
    )
    return JsonResponse({"error": error.message}, status=400)


def _authenticated_and_valid(request):
    """(client, None) for a signed request that matches openapi.yaml, else (None, answer)."""
    try:
        client = machine_authenticate(request)
    except MachineAuthError as error:
        return None, _refuse(request, error)
    try:
        request_check(request)
    except MalformedRequest as error:
        return None, _malformed(request, client, error)
    return client, None


@machine_endpoint("POST")
def approval_create(request):
    """POST /api/approvals/: a workflow asks for a decision."""
    client, refused = _authenticated_and_valid(request)
    if refused:
        return refused
    try:
        approval = services.approval_create(
            client=client, data=body_parse(request.body), context=AuditContext.from_request(request)
        )
    except ApprovalRefused as exc:
        return JsonResponse({"error": exc.message}, status=422)
    response = JsonResponse(approval_json(approval), status=201)
    response["Location"] = request.build_absolute_uri(f"/api/approvals/{approval.pk}")
    return response


@machine_endpoint("GET")
def approval_get(request, id):  # noqa: A002 - the parameter's name in openapi.yaml
    """GET /api/approvals/<id>: the workflow polls for the decision."""
    client, refused = _authenticated_and_valid(request)
    if refused:
        return refused
    approval = (
        ApprovalRequest.objects.select_related("component", "environment", "decided_by")
        .filter(pk=int(id), client=client)
        .first()
    )
    if approval is None:
        return JsonResponse({"error": "no such approval for this token"}, status=404)
    return JsonResponse(approval_json(approval))


@login_not_required
@require_GET
def openapi_document(request):
    return HttpResponse(OPENAPI.read_text(), content_type="application/yaml")
