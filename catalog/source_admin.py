"""Catalog sources and orphans in the admin (imported by catalog/admin.py).

A source's page shows its last run (when, how long, outcome, counts), the progress of a run
(the page refreshes itself while it runs) and the per-entity errors. "Sync now" and deleting
orphans go through the services in catalog/sources/sync.py (permission, audit).
"""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from portal.admin_mixins import RulesAdminMixin
from portal.audit import AuditContext
from portal.errors import PermissionDenied, PortalError

from .models import CatalogSource, EntityOrigin
from .sources import SOURCE_KINDS
from .sources.sync import orphan_delete, source_sync_request

COUNTS = ("created", "updated", "unchanged", "orphaned", "errors")


class CatalogSourceForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=())

    class Meta:
        model = CatalogSource
        fields = ("name", "kind", "config", "enabled", "interval_seconds")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, cls.label) for k, cls in sorted(SOURCE_KINDS.items())]

    def clean(self):
        cleaned = super().clean()
        kind = SOURCE_KINDS.get(cleaned.get("kind") or "")
        if kind is not None and "config" in cleaned:
            for problem in kind.config_problems(cleaned["config"]):
                self.add_error("config", problem)
        return cleaned


@admin.register(CatalogSource)
class CatalogSourceAdmin(RulesAdminMixin, admin.ModelAdmin):
    form = CatalogSourceForm
    list_display = ("name", "kind", "enabled", "state", "finished_at", "duration", "progress",
                    "last_counts", "outcome")  # fmt: skip
    list_filter = ("kind", "state", "outcome", "enabled")
    readonly_fields = ("state", "started_at", "finished_at", "duration", "outcome", "message",
                       "progress", "last_counts", "orphans", "error_table")  # fmt: skip
    actions = ("sync_now",)
    audited_actions = ("sync_now",)  # catalog_source_sync_request audits it
    change_form_template = "admin/catalog/catalogsource/change_form.html"

    @admin.display(description="duration")
    def duration(self, obj):
        return f"{obj.duration_ms / 1000:.2f} s" if obj.duration_ms is not None else "—"

    @admin.display(description="progress")
    def progress(self, obj):
        if obj.state != CatalogSource.State.RUNNING:
            return "—"
        total = f" of {obj.progress_total}" if obj.progress_total else ""
        return f"{obj.progress_done}{total} entities fetched"

    @admin.display(description="last run")
    def last_counts(self, obj):
        if not obj.counts:
            return "—"
        return ", ".join(f"{name} {obj.counts.get(name, 0)}" for name in COUNTS)

    @admin.display(description="orphans")
    def orphans(self, obj):
        return obj.origins.filter(orphaned_at__isnull=False).count() if obj.pk else 0

    @admin.display(description="per-entity errors")
    def error_table(self, obj):
        if not obj.errors:
            return "none"
        rows = format_html_join(
            "",
            '<tr class="source-error"><td>{}</td><td>{}</td><td>{}</td></tr>',
            ((e.get("file"), e.get("line") or "", e.get("message")) for e in obj.errors),
        )
        return format_html("<table><tr><th>File</th><th>Line</th><th>Why</th></tr>{}</table>", rows)

    @admin.action(description="Sync now")
    def sync_now(self, request, queryset):
        context = AuditContext.from_request(request)
        for source in queryset:
            try:
                queued = source_sync_request(actor=request.user, source=source, context=context)
            except PermissionDenied as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
            if queued:
                self.message_user(request, f"{source}: queued.")
            else:
                self.message_user(request, f"{source}: a run is already queued or running.")


@admin.register(EntityOrigin)
class EntityOriginAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = ("entity", "source", "seen_at", "orphaned_at")
    list_filter = (("orphaned_at", admin.EmptyFieldListFilter), "source")
    search_fields = ("entity",)
    list_select_related = ("source",)
    actions = ("delete_orphans",)
    audited_actions = ("delete_orphans",)  # audited per orphan by the service

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # orphans are deleted by the action below (permission, audit)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("catalog.delete_orphan"):
            actions.pop("delete_orphans", None)
        return actions

    @admin.action(description="Delete the selected orphaned entities")
    def delete_orphans(self, request, queryset):
        context, deleted = AuditContext.from_request(request), 0
        for origin in queryset:
            try:
                orphan_delete(actor=request.user, origin=origin, context=context)
                deleted += 1
            except (PermissionDenied, PortalError) as exc:
                self.message_user(request, exc.message, messages.ERROR)
        if deleted:
            self.message_user(
                request, f"{deleted} orphaned entit{'y' if deleted == 1 else 'ies'} deleted."
            )
