import rules
from django.contrib import messages
from django.core import signing
from django.db.models import Max
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from catalog.models import Component
from portal.audit import AuditContext
from portal.decorators import mutating_form, refusal_hides_object
from portal.errors import PortalError

from .contracts import BufUnavailable
from .docs import build_docs
from .forms import DefinitionCreateForm, VersionFetchForm, VersionUploadForm
from .models import ApiDefinition, ApiVersion
from .openapi import OpenApiError, parse_openapi
from .protos import parse_descriptor_set
from .selectors import api_consumers, publishable_components, symbol_search
from .services import (
    BreakingChangeRejected,
    CompileFailed,
    api_definition_get_or_create,
    api_version_create,
    api_version_fetch_from_repository,
    api_version_format_diff,
    api_version_lint,
    upload_files_read,
)

PENDING_SALT = "apidocs.pending-upload"


def api_list(request):
    """Every API in the catalog, with its owner and type, and every published definition."""
    apis = Component.objects.filter(entity_kind=Component.EntityKind.API).select_related("owner")
    definitions = ApiDefinition.objects.select_related("component").annotate(
        latest=Max("versions__number")
    )
    return render(
        request,
        "apidocs/api_list.html",
        {
            "apis": apis,
            "definitions": definitions,
            "can_publish_any": publishable_components(user=request.user).exists(),
            "nav_section": "apis",
        },
    )


def publish_start(request):
    """ "Publish a version": pick one of your services, then its API (new or existing)."""
    components = publishable_components(user=request.user)
    chosen = request.GET.get("component", "")
    if chosen.isdigit() and components.filter(pk=chosen).exists():
        return redirect("apidocs:definition_create", component_pk=int(chosen))
    return render(
        request,
        "apidocs/publish_start.html",
        {"components": components.only("pk", "name"), "nav_section": "apis"},
    )


def api_detail(request, pk):
    """A definition: its latest version, or the upload form when it has none yet."""
    definition = get_object_or_404(ApiDefinition, pk=pk)
    latest = definition.versions.order_by("-number").values_list("number", flat=True).first()
    if latest is None:
        return redirect("apidocs:version_upload", pk=pk)
    return redirect("apidocs:version_detail", pk=pk, number=latest)


def version_detail(request, pk, number):
    """The rendered docs of one version, with a picker for the others."""
    version = get_object_or_404(
        ApiVersion.objects.select_related("definition__component__owner", "author"),
        definition_id=pk,
        number=number,
    )
    definition = version.definition
    context = {
        "definition": definition,
        "version": version,
        "versions": definition.versions.order_by("-number").only("number", "created_at"),
        "can_publish": rules.has_perm("apidocs.add_apiversion", request.user, definition),
        "examples": definition.examples.select_related("created_by"),
        "nav_section": "apis",
    }
    if definition.kind == ApiDefinition.Kind.PROTOBUF and version.descriptor_set:
        fds = parse_descriptor_set(bytes(version.descriptor_set))
        context["docs"] = build_docs(fds, set(version.files))
        context.update(_contract_context(version))
    elif definition.kind == ApiDefinition.Kind.OPENAPI:
        try:
            context["openapi"] = parse_openapi(next(iter(version.files.values()), ""))
        except OpenApiError as error:
            context["openapi_error"] = str(error)
    return render(request, "apidocs/version_detail.html", context)


def _contract_context(version: ApiVersion) -> dict:
    """buf lint of the version (computed on first view) and who its breaking changes affect."""
    context = {}
    try:
        context["lint_findings"] = api_version_lint(version=version)
    except BufUnavailable as error:
        context["lint_error"] = error.message
    if version.breaking_findings:
        context["consumers"] = api_consumers(component=version.definition.component)
    return context


def version_format(request, pk, number):
    """`buf format --diff` of one protobuf version: what buf's formatter would change."""
    version = get_object_or_404(
        ApiVersion.objects.select_related("definition__component"),
        definition_id=pk,
        number=number,
        definition__kind=ApiDefinition.Kind.PROTOBUF,
    )
    context = {"definition": version.definition, "version": version, "nav_section": "apis"}
    try:
        context["diff"] = api_version_format_diff(version=version)
    except BufUnavailable as error:
        context["error"] = error.message
    return render(request, "apidocs/version_format.html", context)


@mutating_form
@refusal_hides_object
def version_upload(request, pk):
    """Upload a new version (several .proto files or a zip); breaking uploads need a reason."""
    definition = get_object_or_404(ApiDefinition.objects.select_related("component"), pk=pk)
    # A POST goes to the service, which records a refusal in the audit log.
    if request.method == "GET" and not rules.has_perm(
        "apidocs.add_apiversion", request.user, definition
    ):
        raise Http404
    form = VersionUploadForm(request.POST or None, request.FILES or None)
    context = {"definition": definition, "form": form, "nav_section": "apis"}
    if request.method == "POST" and form.is_valid():
        try:
            files = _files_from_form(form)
            version = api_version_create(
                actor=request.user,
                api=definition,
                files=files,
                comment=form.cleaned_data["comment"],
                accept_breaking_reason=form.cleaned_data["accept_breaking_reason"],
                context=AuditContext.from_request(request),
            )
        except CompileFailed as error:
            context["compile_errors"] = error.errors
        except BreakingChangeRejected as error:
            context.update(findings=error.findings, consumers=error.consumers)
            form.data = form.data.copy()
            form.data["pending"] = signing.dumps(files, salt=PENDING_SALT, compress=True)
        except PortalError as error:
            context["error"] = error.message
        else:
            messages.success(request, f"Stored {version}.")
            return redirect(version)
    return render(request, "apidocs/version_upload.html", context)


@mutating_form
@refusal_hides_object
def version_fetch(request, pk):
    """Fetch the .proto files under a path of the component's repository as a new version.

    GitHub is called by the service outside any transaction; breaking changes need a reason (the
    files are fetched again when it is given).
    """
    definition = get_object_or_404(ApiDefinition.objects.select_related("component"), pk=pk)
    if request.method == "GET" and not rules.has_perm(
        "apidocs.add_apiversion", request.user, definition
    ):
        raise Http404
    form = VersionFetchForm(request.POST or None)
    context = {"definition": definition, "form": form, "nav_section": "apis"}
    if request.method == "POST" and form.is_valid():
        try:
            version = api_version_fetch_from_repository(
                actor=request.user,
                api=definition,
                path=form.cleaned_data["path"],
                ref=form.cleaned_data["ref"],
                accept_breaking_reason=form.cleaned_data["accept_breaking_reason"],
                context=AuditContext.from_request(request),
            )
        except CompileFailed as error:
            context["compile_errors"] = error.errors
        except BreakingChangeRejected as error:
            context.update(findings=error.findings, consumers=error.consumers)
        except PortalError as error:
            context["error"] = error.message
        else:
            messages.success(request, f"Stored {version}.")
            return redirect(version)
    return render(request, "apidocs/version_fetch.html", context)


def _files_from_form(form) -> dict[str, str]:
    if form.cleaned_data["files"]:
        return upload_files_read(form.cleaned_data["files"])
    if form.cleaned_data["pending"]:
        try:
            return signing.loads(form.cleaned_data["pending"], salt=PENDING_SALT, max_age=3600)
        except signing.BadSignature:
            raise PortalError("The pending upload expired; upload the files again.") from None
    raise PortalError("Choose the files to upload.")


@mutating_form
@refusal_hides_object
def definition_create(request, component_pk):
    """Start a new API definition for a component (then upload its first version)."""
    component = get_object_or_404(Component, pk=component_pk)
    if request.method == "GET" and not rules.has_perm(
        "apidocs.add_apidefinition", request.user, component
    ):
        raise Http404
    form = DefinitionCreateForm(request.POST or None)
    existing = ApiDefinition.objects.filter(component=component).annotate(
        latest=Max("versions__number")
    )
    if request.method == "POST" and form.is_valid():
        definition = api_definition_get_or_create(
            actor=request.user,
            component=component,
            name=form.cleaned_data["name"],
            kind=form.cleaned_data["kind"],
            context=AuditContext.from_request(request),
        )
        return redirect("apidocs:version_upload", pk=definition.pk)
    return render(
        request,
        "apidocs/definition_create.html",
        {"component": component, "form": form, "existing": existing, "nav_section": "apis"},
    )


def symbol_search_view(request):
    """Search services, methods, messages, enums and fields across every API's latest version."""
    query = request.GET.get("q", "").strip()
    results = list(symbol_search(query=query)) if query else []
    return render(
        request,
        "apidocs/symbol_search.html",
        {"q": query, "results": results, "nav_section": "apis"},
    )
