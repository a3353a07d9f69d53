"""The catalog in the Django admin, plus the Backstage descriptor upload (platform team only)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from portal.admin_mixins import RulesAdminMixin
from portal.audit import AuditContext
from portal.errors import PermissionDenied
from portal.permissions import permission_require

from .backstage import Source, catalog_import
from .forms import BackstageUploadForm
from .models import (
    ApiRelation,
    Component,
    ComponentEnvironment,
    Dependency,
    Environment,
    Namespace,
    Person,
    System,
    Team,
)


class SubcomponentInline(admin.TabularInline):
    model = Component
    fk_name = "parent"
    fields = ("name", "entity_kind", "kind", "lifecycle", "owner")
    raw_id_fields = ("owner",)
    show_change_link = True
    extra = 0
    verbose_name = "subcomponent"


class DependencyInline(admin.TabularInline):
    model = Dependency
    fk_name = "source"
    fields = ("target", "kind", "topic", "criticality", "description")
    raw_id_fields = ("target",)
    extra = 0
    verbose_name = "dependency (this component calls / reads)"


class ApiRelationInline(admin.TabularInline):
    model = ApiRelation
    fk_name = "component"
    raw_id_fields = ("api",)
    extra = 0


class ComponentEnvironmentInline(admin.TabularInline):
    model = ComponentEnvironment
    extra = 0


@admin.register(Component)
class ComponentAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "entity_kind",
        "kind",
        "metadata_namespace",
        "owner",
        "namespace",
        "system",
        "parent",
        "lifecycle",
        "tier",
    )
    list_filter = ("entity_kind", "kind", "lifecycle", "tier", "metadata_namespace", "namespace")
    search_fields = ("name", "title", "description", "spec_type")
    list_select_related = ("owner", "namespace", "system", "parent")
    raw_id_fields = ("owner", "owner_person", "system", "namespace", "parent")
    inlines = (SubcomponentInline, DependencyInline, ApiRelationInline, ComponentEnvironmentInline)
    change_list_template = "admin/catalog/component/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="catalog_backstage_import"), *super().get_urls()]

    def import_view(self, request):
        """Upload descriptors; superusers and the platform-admin group only (refusals audited)."""
        try:
            permission_require(
                actor=request.user,
                perm="catalog.import_backstage",
                action="catalog.import",
                context=AuditContext.from_request(request),
                message="Only the platform team may import Backstage descriptors.",
            )
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message)
        report = None
        form = BackstageUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            report = catalog_import(
                sources=[_source(upload) for upload in form.cleaned_data["files"]],
                actor=request.user,
                dry_run=form.cleaned_data["dry_run"],
                strict=form.cleaned_data["strict"],
                context=AuditContext.from_request(request),
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import Backstage descriptors",
            "form": form,
            "report": report,
        }
        return TemplateResponse(request, "admin/catalog/backstage_import.html", context)


def _source(upload) -> Source:
    raw = upload.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace")  # the YAML reader then reports bad content
    return Source(name=upload.name, text=text, base_dir=None)


@admin.register(Team)
class TeamAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = ("name", "title", "metadata_namespace", "team_type", "parent", "email")
    list_filter = ("team_type", "metadata_namespace")
    search_fields = ("name", "title", "email", "description")
    list_select_related = ("parent",)
    raw_id_fields = ("parent",)


@admin.register(Person)
class PersonAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = ("name", "display_name", "email", "metadata_namespace")
    list_filter = ("metadata_namespace", "teams")
    search_fields = ("name", "display_name", "email")
    filter_horizontal = ("teams",)


@admin.register(Namespace)
class NamespaceAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = ("name", "title", "metadata_namespace", "owner", "owner_person", "parent")
    list_filter = ("metadata_namespace",)
    search_fields = ("name", "title", "description")
    list_select_related = ("owner", "owner_person", "parent")
    raw_id_fields = ("owner", "owner_person", "parent")


@admin.register(System)
class SystemAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = ("name", "title", "metadata_namespace", "namespace", "owner", "owner_person")
    list_filter = ("metadata_namespace", "namespace")
    search_fields = ("name", "title", "description")
    list_select_related = ("namespace", "owner", "owner_person")
    raw_id_fields = ("namespace", "owner", "owner_person")


@admin.register(Environment)
class EnvironmentAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = ("name", "title", "order", "is_production", "kube_context", "argocd_instance")
    list_filter = ("is_production",)
    search_fields = ("name", "title", "kube_context")


@admin.register(ComponentEnvironment)
class ComponentEnvironmentAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = ("component", "environment", "kube_deployment", "argocd_application")
    list_filter = ("environment",)
    search_fields = ("component__name", "kube_deployment", "argocd_application")
    list_select_related = ("component", "environment")
    raw_id_fields = ("component",)


@admin.register(Dependency)
class DependencyAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = ("source", "target", "kind", "topic", "criticality")
    list_filter = ("kind", "criticality")
    search_fields = ("source__name", "target__name", "topic", "description")
    list_select_related = ("source", "target")
    raw_id_fields = ("source", "target")


@admin.register(ApiRelation)
class ApiRelationAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = ("component", "relation", "api")
    list_filter = ("relation",)
    search_fields = ("component__name", "api__name")
    list_select_related = ("component", "api")
    raw_id_fields = ("component", "api")


from . import source_admin  # noqa: E402, F401  (catalog sources and orphans)
