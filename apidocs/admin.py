from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from portal.admin_mixins import ReadOnlyAdminMixin
from portal.audit import AuditContext
from portal.errors import PermissionDenied, PortalError
from portal.rules import is_platform_admin, is_sre

from .forms import MultipleFileField
from .models import ApiDefinition, ApiVersion, TryItExample, TryItPolicy
from .services import BreakingChangeRejected, CompileFailed, api_version_create, upload_files_read
from .tryit import tryit_policy_save


class AdminUploadForm(forms.Form):
    files = MultipleFileField(help_text="Several .proto files or one .zip")
    comment = forms.CharField(max_length=500, required=False)
    accept_breaking_reason = forms.CharField(widget=forms.Textarea, required=False)


class ApiVersionInline(admin.TabularInline):
    model = ApiVersion
    fields = ("number", "created_at", "author", "author_label", "source", "comment")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApiDefinition)
class ApiDefinitionAdmin(admin.ModelAdmin):
    list_display = ("name", "component", "kind", "created_at")
    search_fields = ("name", "component__name")
    list_select_related = ("component",)
    raw_id_fields = ("component",)
    inlines = [ApiVersionInline]
    change_form_template = "admin/apidocs/apidefinition/change_form.html"

    def get_urls(self):
        upload = self.admin_site.admin_view(self.upload_view)
        return [
            path("<int:pk>/upload/", upload, name="apidocs_apidefinition_upload"),
            *super().get_urls(),
        ]

    def upload_view(self, request, pk):
        """Upload a version through the same service as the site (permission, audit, breaking)."""
        definition = get_object_or_404(ApiDefinition, pk=pk)
        form = AdminUploadForm(request.POST or None, request.FILES or None)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "definition": definition,
            "opts": self.model._meta,
        }
        if request.method == "POST" and form.is_valid():
            try:
                version = api_version_create(
                    actor=request.user,
                    api=definition,
                    files=upload_files_read(form.cleaned_data["files"]),
                    comment=form.cleaned_data["comment"],
                    accept_breaking_reason=form.cleaned_data["accept_breaking_reason"],
                    context=AuditContext.from_request(request),
                )
            except PermissionDenied as error:
                raise DjangoPermissionDenied(error.message) from None
            except CompileFailed as error:
                context["compile_errors"] = error.errors
            except BreakingChangeRejected as error:
                context.update(findings=error.findings, consumers=error.consumers)
            except PortalError as error:
                context["error"] = error.message
            else:
                messages.success(request, f"Stored {version}.")
                return redirect("admin:apidocs_apidefinition_change", definition.pk)
        return render(request, "admin/apidocs/apidefinition/upload.html", context)


@admin.register(ApiVersion)
class ApiVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Versions are immutable: viewable here, created only through the upload."""

    list_display = ("definition", "number", "author", "author_label", "source", "created_at")
    list_select_related = ("definition__component", "author")
    exclude = ("descriptor_set",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "descriptor_set"]


@admin.register(TryItPolicy)
class TryItPolicyAdmin(admin.ModelAdmin):
    """Which environments are approved for try-it and who may call there: platform admins only."""

    list_display = (
        "environment",
        "enabled",
        "allow_viewers",
        "allow_owner_team",
        "allow_sre",
        "allow_platform_admins",
        "calls_per_minute",
        "updated_at",
    )
    list_select_related = ("environment",)

    def _is_platform_admin(self, request) -> bool:
        return is_platform_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return self._is_platform_admin(request) or is_sre(request.user)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return self._is_platform_admin(request)

    def has_change_permission(self, request, obj=None):
        return self._is_platform_admin(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_platform_admin(request)

    def save_model(self, request, obj, form, change):
        tryit_policy_save(
            actor=request.user,
            policy=obj,
            changed=form.changed_data,
            context=AuditContext.from_request(request),
        )


@admin.register(TryItExample)
class TryItExampleAdmin(admin.ModelAdmin):
    list_display = ("title", "method", "definition", "created_by", "created_at")
    list_select_related = ("definition__component", "created_by")
    search_fields = ("title", "method")
    readonly_fields = ("definition", "method", "created_by", "created_at")
