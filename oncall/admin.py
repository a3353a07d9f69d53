from django.contrib import admin

from portal.admin_mixins import RulesAdminMixin

from .models import IncidentGate, IncidentGateOverride


@admin.register(IncidentGate)
class IncidentGateAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = ("environment", "enabled")


@admin.register(IncidentGateOverride)
class IncidentGateOverrideAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = ("approval", "actor", "created_at")
    readonly_fields = ("approval", "actor", "reason", "incidents", "created_at")
