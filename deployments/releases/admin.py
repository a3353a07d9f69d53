"""Releases and freezes in the admin."""

from django.contrib import admin

from portal.admin_mixins import ReadOnlyAdminMixin

from .models import DeployFreeze, Release, ReleaseEvent


class ReleaseEventInline(admin.TabularInline):
    model = ReleaseEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "state", "message", "data"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Releases move only through their state machine: the admin shows them, it does not edit."""

    list_display = [
        "component",
        "version",
        "environment",
        "strategy",
        "state",
        "requested_by",
        "created_at",
    ]
    list_filter = ["state", "environment", "strategy"]
    search_fields = ["component__name", "version"]
    list_select_related = ["component", "environment", "requested_by"]
    inlines = [ReleaseEventInline]


@admin.register(DeployFreeze)
class DeployFreezeAdmin(admin.ModelAdmin):
    list_display = ["environment", "component", "starts_at", "ends_at", "reason"]
    list_filter = ["environment"]
    raw_id_fields = ["component"]
