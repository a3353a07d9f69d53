"""Try-it: call an API of a stored version in an approved environment, from the server.

Every attempt — done, failed, refused or rate limited — is audited as `apidocs.tryit_call` with
who, method, environment, status and latency, request and response redacted of secrets. The
rate limit counts `TryItCall` rows in the database (per user and environment, one minute), so it
holds across web processes.
"""

import json
from dataclasses import dataclass, field
from datetime import timedelta

import rules
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from catalog.models import ComponentEnvironment, Environment
from integrations import egress, grpc_calls
from integrations.errors import IntegrationError
from portal.audit import AuditContext, audit_record
from portal.errors import PermissionDenied, PortalError, ValidationFailed
from portal.models import AuditEvent
from portal.permissions import permission_require
from portal.rules import is_platform_admin

from . import tryit_shapes as shapes
from .models import ApiDefinition, ApiVersion, TryItCall, TryItExample, TryItPolicy

ACTION = "apidocs.tryit_call"
RATE_WINDOW = timedelta(minutes=1)
MAX_RESPONSE_BYTES = 1024 * 1024
MAX_REQUEST_BYTES = 256 * 1024
MAX_STREAM_MESSAGES = 100


class RateLimited(PortalError):
    """Too many try-it calls in the last minute."""


@dataclass(frozen=True)
class TryItTarget:
    """An API definition in one environment: what `apidocs.tryit_call` is checked on."""

    definition: ApiDefinition
    environment: Environment
    policy: TryItPolicy | None
    base_url: str  # configured for the component and environment, "" when none


@dataclass(frozen=True)
class TryItRequest:
    operation: str  # gRPC full method name, or OpenAPI operation anchor
    body: str = ""
    metadata: str = ""  # "key: value" lines (gRPC metadata or HTTP headers)
    timeout: float = shapes.DEFAULT_TIMEOUT_SECONDS
    params: dict = field(default_factory=dict)  # OpenAPI: "in:name" -> value


@dataclass(frozen=True)
class TryItResponse:
    status: str
    ok: bool
    latency_ms: int
    body: str = ""
    messages: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    trailers: tuple[tuple[str, str], ...] = ()
    status_details: str = ""
    truncated: str = ""
    streaming: bool = False


def tryit_base_url(*, definition: ApiDefinition, environment: Environment) -> str:
    """The component's base URL in `environment`: its own, else the environment's template."""
    component = definition.component
    own = (
        ComponentEnvironment.objects.filter(component=component, environment=environment)
        .values_list("api_base_url", flat=True)
        .first()
    )
    if own:
        return own
    return (environment.api_base_url or "").replace("{component}", component.name)


def tryit_target(*, definition: ApiDefinition, environment: Environment) -> TryItTarget:
    policy = TryItPolicy.objects.filter(environment=environment).first()
    return TryItTarget(
        definition,
        environment,
        policy,
        tryit_base_url(definition=definition, environment=environment),
    )


def tryit_targets_for(*, user, definition: ApiDefinition) -> list[TryItTarget]:
    """Environments `user` may call `definition` in (approved, role allowed, base URL known)."""
    policies = {p.environment_id: p for p in TryItPolicy.objects.filter(enabled=True)}
    own_urls = dict(
        ComponentEnvironment.objects.filter(component=definition.component)
        .exclude(api_base_url="")
        .values_list("environment_id", "api_base_url")
    )
    targets = []
    for environment in Environment.objects.filter(pk__in=policies):
        url = own_urls.get(environment.pk) or (environment.api_base_url or "").replace(
            "{component}", definition.component.name
        )
        target = TryItTarget(definition, environment, policies[environment.pk], url)
        if url and rules.has_perm("apidocs.tryit_call", user, target):
            targets.append(target)
    return targets


def tryit_call(
    *,
    actor,
    version: ApiVersion,
    environment: Environment,
    request: TryItRequest,
    context: AuditContext | None = None,
    resolver: egress.Resolver | None = None,
) -> TryItResponse:
    """Send `request` to `version`'s API in `environment` and return the response.

    Raises PermissionDenied (not approved / role not allowed), ValidationFailed (bad input,
    nothing sent), RateLimited, or PortalError when the address is refused or unreachable.
    A non-OK gRPC status or an HTTP error status is a response, not an error.
    """
    definition = version.definition
    target = tryit_target(definition=definition, environment=environment)
    audit = _Auditor(actor, target, request, context)
    if not rules.has_perm("apidocs.tryit_call", actor, target):  # superuser grants nothing
        message = _denial_message(target)
        audit.record(AuditEvent.Outcome.DENIED, status="denied", reason=message)
        raise PermissionDenied(message, recorded=True)
    try:
        if not target.base_url:
            raise ValidationFailed(f"No API address is configured for {environment}.")
        prepared = _prepare(version, request)
    except ValidationFailed as error:
        audit.record(AuditEvent.Outcome.FAILED, status="invalid", reason=error.message)
        raise
    _rate_limit_claim(actor, target, request, audit)
    try:
        pinned = egress.egress_resolve(
            target.base_url,
            allowed_networks=target.policy.private_network_list,
            resolver=resolver,
            allow_loopback=settings.TRYIT_ALLOW_LOOPBACK,
        )
        response = prepared.send(pinned, request)
    except IntegrationError as error:
        audit.record(AuditEvent.Outcome.FAILED, status="refused", reason=str(error))
        raise PortalError(f"The call was not made or failed: {error.message}") from None
    except Exception as error:  # noqa: BLE001 - audited, then raised on: a bug, still on record
        audit.record(AuditEvent.Outcome.FAILED, status="error", reason=repr(error)[:500])
        raise
    audit.record(AuditEvent.Outcome.DONE, status=response.status, response=response)
    return response


def _denial_message(target: TryItTarget) -> str:
    if target.policy is None or not target.policy.enabled:
        return f"{target.environment} is not approved for try-it."
    return f"Your role may not call APIs in {target.environment}."


def _rate_limit_claim(actor, target, request, audit) -> None:
    """Record the attempt, then count, under a lock on the person's row: racing requests of
    one person are counted one after the other, so none gets through past the limit."""
    limit = target.policy.calls_per_minute
    since = timezone.now() - RATE_WINDOW
    with transaction.atomic():
        list(get_user_model().objects.select_for_update().filter(pk=actor.pk).values_list("pk"))
        call = TryItCall.objects.create(
            user=actor,
            definition=target.definition,
            environment=target.environment.name,
            method=request.operation[:400],
            status="pending",
        )
        recent = (
            TryItCall.objects.filter(user=actor, environment=target.environment.name)
            .filter(created_at__gte=since)
            .exclude(status="rate-limited")
            .count()
        )
        if recent > limit:
            call.status = "rate-limited"
            call.save(update_fields=["status"])
    audit.call = call
    if call.status == "rate-limited":
        message = f"Rate limit: at most {limit} try-it calls a minute in {target.environment}."
        audit.record(AuditEvent.Outcome.DENIED, status="rate-limited", reason=message)
        raise RateLimited(message)


class _Auditor:
    def __init__(self, actor, target, request, context):
        self.actor, self.target, self.request, self.context = actor, target, request, context
        self.call = None

    def record(self, outcome, *, status, reason="", response: TryItResponse | None = None):
        before = {
            "operation": self.request.operation,
            "body": shapes.redact_text(self.request.body),
            "metadata": shapes.redact(_pairs(self.request.metadata)),
            "params": shapes.redact(self.request.params),
            "timeout": self.request.timeout,
        }
        after = {"status": status}
        if response is not None:
            after.update(
                latency_ms=response.latency_ms,
                body=shapes.redact_text(response.body),
                messages=[shapes.redact_text(m) for m in response.messages[:20]],
                headers=shapes.redact(list(response.headers)),
                trailers=shapes.redact(list(response.trailers)),
                truncated=response.truncated,
            )
        with transaction.atomic():
            if self.call is not None and outcome != AuditEvent.Outcome.DENIED:
                self.call.status = status[:60]
                self.call.latency_ms = response.latency_ms if response else None
                self.call.save(update_fields=["status", "latency_ms"])
            audit_record(
                actor=self.actor,
                action=ACTION,
                target=self.target.definition,
                outcome=outcome,
                component=self.target.definition.component,
                environment=self.target.environment.name,
                before=before,
                after=after,
                reason=reason,
                context=self.context,
            )


def _pairs(text: str) -> list[list[str]]:
    out = []
    for line in (text or "").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out.append([key.strip(), value.strip()])
    return out


class _Prepared:
    """A validated request, ready to send to a pinned target."""

    def __init__(self, send):
        self.send = send


def _prepare(version: ApiVersion, request: TryItRequest) -> _Prepared:
    timeout = shapes.parse_timeout(request.timeout)
    if len(request.body.encode()) > MAX_REQUEST_BYTES:
        raise ValidationFailed(f"The request is larger than {MAX_REQUEST_BYTES // 1024} KB.")
    if version.definition.kind == ApiDefinition.Kind.PROTOBUF:
        return _prepare_grpc(version, request, timeout)
    return _prepare_http(version, request, timeout)


def _prepare_grpc(version, request, timeout) -> _Prepared:
    method = shapes.grpc_method(version, request.operation)
    if method is None:
        raise ValidationFailed(f"{request.operation} is not a method of {version}.")
    if not method.supported:
        raise ValidationFailed(f"{method.kind.capitalize()} methods cannot be called in try-it.")
    payload = shapes.grpc_encode(version, method, request.body)
    metadata = shapes.parse_metadata(request.metadata)

    def send(pinned, _request) -> TryItResponse:
        result = grpc_calls.grpc_call(
            pinned,
            method_path=method.path,
            request=payload,
            server_streaming=method.server_streaming,
            metadata=metadata,
            timeout=timeout,
            max_message_bytes=MAX_RESPONSE_BYTES,
            max_messages=MAX_STREAM_MESSAGES,
            max_total_bytes=2 * MAX_RESPONSE_BYTES,
        )
        decoded = tuple(shapes.grpc_decode(version, method, m) for m in result.messages)
        return TryItResponse(
            status=result.code,
            ok=result.code == "OK" or bool(result.truncated_reason),
            latency_ms=result.latency_ms,
            body=decoded[0] if decoded and not method.server_streaming else "",
            messages=decoded if method.server_streaming else (),
            headers=result.initial_metadata,
            trailers=result.trailing_metadata,
            status_details=(result.details or "")
            + (
                "\n" + shapes.status_details_json(result.status_details)
                if result.status_details
                else ""
            ),
            truncated=result.truncated_reason,
            streaming=method.server_streaming,
        )

    return _Prepared(send)


def _prepare_http(version, request, timeout) -> _Prepared:
    operation = shapes.openapi_operation(version, request.operation)
    if operation is None:
        raise ValidationFailed(f"{request.operation} is not an operation of {version}.")
    values = {k.split(":", 1)[1]: v for k, v in request.params.items() if k.startswith("path:")}
    path = shapes.fill_path(operation.path, values)
    query = {
        k.split(":", 1)[1]: v
        for k, v in request.params.items()
        if k.startswith("query:") and v != ""
    }
    headers = {
        k.split(":", 1)[1]: v
        for k, v in request.params.items()
        if k.startswith("header:") and v != ""
    }
    headers.update(shapes.parse_headers(request.metadata))
    shapes.check_headers(headers)
    body = request.body.encode()
    if body and operation.content_type:
        headers.setdefault("Content-Type", operation.content_type)

    def send(pinned, _request) -> TryItResponse:
        result = egress.http_request(
            pinned,
            method=operation.method,
            path=path,
            query=query,
            headers=headers,
            body=body,
            timeout=timeout,
            max_request_bytes=MAX_REQUEST_BYTES,
            max_response_bytes=MAX_RESPONSE_BYTES,
        )
        return TryItResponse(
            status=f"{result.status} {result.reason}".strip(),
            ok=result.status < 400,
            latency_ms=result.latency_ms,
            body=_http_body(result.body),
            headers=result.headers,
            truncated=f"cut at {MAX_RESPONSE_BYTES} bytes" if result.truncated else "",
        )

    return _Prepared(send)


def _http_body(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


def tryit_policy_save(
    *, actor, policy: TryItPolicy, changed: list[str], context: AuditContext | None = None
) -> TryItPolicy:
    """Store a try-it policy (admin); platform admins only, audited with the changed fields."""
    if not is_platform_admin(actor):
        raise PermissionDenied("Only platform admins manage try-it policies.")
    fields = [
        "enabled",
        "allow_viewers",
        "allow_owner_team",
        "allow_sre",
        "allow_platform_admins",
        "calls_per_minute",
        "private_networks",
    ]
    with transaction.atomic():
        policy.save()
        audit_record(
            actor=actor,
            action="apidocs.tryit_policy_save",
            target=policy,
            environment=policy.environment.name,
            context=context,
            after={name: getattr(policy, name) for name in fields},
            reason="changed: " + ", ".join(changed),
        )
    return policy


# --- saved examples -----------------------------------------------------------------------------


def tryit_example_save(
    *,
    actor,
    version: ApiVersion,
    environment: Environment,
    title: str,
    request: TryItRequest,
    context: AuditContext | None = None,
) -> TryItExample:
    """Save the editor's request as a shared example of its method (replacing one of that title).

    Needs the right to call the API in `environment` (`apidocs.add_tryitexample`)."""
    definition = version.definition
    target = tryit_target(definition=definition, environment=environment)
    title = (title or "").strip()[:120]
    if not rules.has_perm("apidocs.add_tryitexample", actor, target):
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="apidocs.tryit_example_save",
                target=definition,
                outcome=AuditEvent.Outcome.DENIED,
                component=definition.component,
                environment=environment.name,
                reason="may not call this API there",
                context=context,
            )
        raise PermissionDenied(_denial_message(target))
    if not title:
        raise ValidationFailed("Give the example a title.")
    _prepare(version, request)  # only valid requests are saved
    # Examples are shared with everyone who reads the API: secret headers are never stored.
    data = {
        "body": request.body,
        "metadata": shapes.redact_lines(request.metadata),
        "timeout": request.timeout,
        "params": shapes.redact(request.params),
    }
    with transaction.atomic():
        example, _ = TryItExample.objects.update_or_create(
            definition=definition,
            method=request.operation[:400],
            title=title,
            defaults={"request": data, "created_by": actor},
        )
        audit_record(
            actor=actor,
            action="apidocs.tryit_example_save",
            target=example,
            component=definition.component,
            environment=environment.name,
            after={
                "method": example.method,
                "title": title,
                "request": shapes.redact({**data, "body": shapes.redact_text(request.body)}),
            },
            context=context,
        )
    return example


def tryit_example_delete(
    *, actor, example: TryItExample, context: AuditContext | None = None
) -> None:
    """Remove a saved example (its author, the owning team or a platform admin)."""
    permission_require(
        actor=actor,
        perm="apidocs.delete_tryitexample",
        obj=example,
        action="apidocs.tryit_example_delete",
        component=example.definition.component,
        context=context,
        message="Only the author or the owning team can remove this example.",
    )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="apidocs.tryit_example_delete",
            target=example,
            component=example.definition.component,
            before={"method": example.method, "title": example.title},
            context=context,
        )
        example.delete()
