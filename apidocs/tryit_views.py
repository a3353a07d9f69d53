"""Try-it pages: the request editor of one method/operation, the call, saved examples."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from catalog.models import Environment
from integrations.egress import egress_parse, request_path
from integrations.errors import IntegrationError
from portal.audit import AuditContext
from portal.decorators import mutating, mutating_form, refusal_hides_object
from portal.errors import PermissionDenied, PortalError

from . import tryit_shapes as shapes
from .models import ApiDefinition, ApiVersion, TryItExample
from .tryit import (
    RateLimited,
    TryItRequest,
    tryit_call,
    tryit_example_delete,
    tryit_example_save,
    tryit_targets_for,
)

TEMPLATE = "apidocs/tryit_detail.html"


@mutating_form
def tryit_detail(request, pk, number):
    """The editor (GET, pre-filled from the schema or a saved example) and the call (POST)."""
    version = get_object_or_404(
        ApiVersion.objects.select_related("definition__component"), definition_id=pk, number=number
    )
    context = _editor_context(request, version, request.GET.get("op") or request.POST.get("op"))
    if request.method != "POST":
        return render(request, TEMPLATE, context)
    environment = Environment.objects.filter(name=request.POST.get("environment", "")).first()
    if environment is None:
        return _show_error(request, context, "Choose an environment.", 400)
    context["selected_environment"] = environment.name
    try:
        context["response"] = tryit_call(
            actor=request.user,
            version=version,
            environment=environment,
            request=context["editor"],
            context=AuditContext.from_request(request),
        )
    except PermissionDenied as error:
        return _show_error(request, context, error.message, 403)
    except RateLimited as error:
        return _show_error(request, context, error.message, 429)
    except PortalError as error:
        return _show_error(request, context, error.message, 400)
    return _render_answer(request, context)


def _render_answer(request, context, status=200):
    """The whole page, or for htmx the response card and (out of band) the copy-as-command card,
    so that the command shown is the request just sent."""
    if not request.htmx:
        return render(request, TEMPLATE, context, status=status)
    context["snippets_oob"] = True
    return render(request, f"{TEMPLATE}#response", context, status=status)


def _show_error(request, context, message, status):
    context["error"] = message
    response = _render_answer(request, context, status)
    response["X-Error-Message"] = message
    return response


def _editor_context(request, version, op):
    definition = version.definition
    is_grpc = definition.kind == ApiDefinition.Kind.PROTOBUF
    method = shapes.grpc_method(version, op or "") if is_grpc else None
    operation = None if is_grpc else shapes.openapi_operation(version, op or "")
    if method is None and operation is None:
        raise Http404("No such method or operation in this version.")
    targets = tryit_targets_for(user=request.user, definition=definition)
    example = _example(request, definition, op)
    editor = _editor_from(request, method, operation, version, example)
    return {
        "definition": definition,
        "version": version,
        "method": method,
        "operation": operation,
        "op": op,
        "targets": targets,
        "editor": editor,
        "nav_section": "apis",
        "selected_environment": request.POST.get("environment") or request.GET.get("env", ""),
        "examples": TryItExample.objects.filter(definition=definition, method=op).select_related(
            "created_by"
        ),
        "snippets": _snippets(targets, request, method, operation, editor),
        "params": _param_rows(operation, editor),
    }


def _example(request, definition, op):
    example_id = request.GET.get("example", "")
    if not example_id.isdigit():
        return None
    return TryItExample.objects.filter(pk=example_id, definition=definition, method=op).first()


def _editor_from(request, method, operation, version, example) -> TryItRequest:
    op = method.full_name if method else operation.anchor
    if request.method == "POST":
        params = {k[6:]: v for k, v in request.POST.items() if k.startswith("param:")}
        return TryItRequest(
            operation=op,
            body=request.POST.get("body", ""),
            metadata=request.POST.get("metadata", ""),
            timeout=request.POST.get("timeout") or shapes.DEFAULT_TIMEOUT_SECONDS,
            params=params,
        )
    if example is not None:
        data = example.request
        return TryItRequest(
            operation=op,
            body=data.get("body", ""),
            metadata=data.get("metadata", ""),
            timeout=data.get("timeout", shapes.DEFAULT_TIMEOUT_SECONDS),
            params=data.get("params", {}),
        )
    if method is not None:
        body = shapes.grpc_sample(version, method) if method.supported else ""
        return TryItRequest(operation=op, body=body)
    params = {f"{p.location}:{p.name}": p.sample for p in operation.params}
    return TryItRequest(operation=op, body=operation.body_sample, params=params)


def _param_rows(operation, editor):
    if operation is None:
        return []
    return [
        (p, f"param:{p.location}:{p.name}", editor.params.get(f"{p.location}:{p.name}", ""))
        for p in operation.params
    ]


def _snippets(targets, request, method, operation, editor) -> list[shapes.Snippet]:
    """ "copy as grpcurl / curl" for the selected (or first) allowed environment."""
    wanted = request.POST.get("environment") or request.GET.get("env", "")
    target = next((t for t in targets if t.environment.name == wanted), None) or next(
        iter(targets), None
    )
    if target is None or (method is not None and not method.supported):
        return []
    try:
        configured = egress_parse(target.base_url)  # printed as configured, never resolved here
    except IntegrationError:
        return []
    try:
        return [_snippet(configured, target, method, operation, editor)]
    except PortalError:
        return []


def _snippet(configured, target, method, operation, editor) -> shapes.Snippet:
    timeout = shapes.parse_timeout(editor.timeout)
    if method is not None:
        command = shapes.grpcurl_command(
            authority=f"{configured.host}:{configured.port}",
            tls=configured.tls,
            method=method,
            body=editor.body,
            metadata=shapes.parse_metadata(editor.metadata),
            timeout=timeout,
        )
        return shapes.Snippet(f"grpcurl ({target.environment})", command)
    values = {k[5:]: v for k, v in editor.params.items() if k.startswith("path:")}
    query = {k[6:]: v for k, v in editor.params.items() if k.startswith("query:") and v}
    headers = {k[7:]: v for k, v in editor.params.items() if k.startswith("header:") and v}
    headers.update(shapes.parse_headers(editor.metadata))
    if editor.body and operation.content_type:
        headers.setdefault("Content-Type", operation.content_type)
    path = request_path(configured, shapes.fill_path(operation.path, values), query)
    url = f"{'https' if configured.tls else 'http'}://{configured.authority}{path}"
    command = shapes.curl_command(
        url=url, method=operation.method, headers=headers, body=editor.body, timeout=timeout
    )
    return shapes.Snippet(f"curl ({target.environment})", command)


@mutating
def tryit_example_save_view(request, pk, number):
    """Save the editor's request as a shared example, then show it in the editor."""
    version = get_object_or_404(
        ApiVersion.objects.select_related("definition__component"), definition_id=pk, number=number
    )
    context = _editor_context(request, version, request.POST.get("op"))
    environment = Environment.objects.filter(name=request.POST.get("environment", "")).first()
    if environment is None:
        return _show_error(request, context, "Choose an environment.", 400)
    try:
        example = tryit_example_save(
            actor=request.user,
            version=version,
            environment=environment,
            title=request.POST.get("title", ""),
            request=context["editor"],
            context=AuditContext.from_request(request),
        )
    except PermissionDenied as error:
        return _show_error(request, context, error.message, 403)
    except PortalError as error:
        return _show_error(request, context, error.message, 400)
    messages.success(request, f"Saved the example “{example.title}”.")
    query = urlencode({"op": example.method, "example": example.pk, "env": environment.name})
    return redirect(f"{reverse('apidocs:tryit', args=[pk, number])}?{query}")


@mutating
@refusal_hides_object
def tryit_example_delete_view(request, pk):
    example = get_object_or_404(TryItExample.objects.select_related("definition__component"), pk=pk)
    tryit_example_delete(
        actor=request.user, example=example, context=AuditContext.from_request(request)
    )
    messages.success(request, "Removed the example.")
    return redirect(example.definition)
