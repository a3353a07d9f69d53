from django.contrib import admin

from .admin_mixins import ReadOnlyAdminMixin, RulesAdminMixin
from .models import AuditEvent, SsoGroupMapping, TeamMembership


@admin.register(SsoGroupMapping)
class SsoGroupMappingAdmin(RulesAdminMixin, admin.ModelAdmin):
    """Platform admins decide which SSO group grants which team role or platform role."""

    audit_action_prefix = "identity.mapping"
    list_display = ("group", "team", "team_role", "platform_role")
    list_filter = ("platform_role", "team_role")
    search_fields = ("group", "team__name")
    autocomplete_fields = ()
    raw_id_fields = ("team",)


@admin.register(TeamMembership)
class TeamMembershipAdmin(RulesAdminMixin, admin.ModelAdmin):
    audit_action_prefix = "identity.membership"
    list_display = ("user", "team", "role", "source")
    list_filter = ("role", "source")
    search_fields = ("user__username", "team__name")
    raw_id_fields = ("user", "team")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the log is append-only, written only by portal.audit.audit_record."""

    list_display = ("created_at", "actor_label", "action", "outcome", "component", "target_label")

    class Media:
        # Long actions and targets wrap, so the Target column stays on the screen.
        css = {"all": ["css/admin-audit.css"]}

    list_filter = ("outcome", "created_at")
    search_fields = ("actor_label", "action", "target_label", "request_id")
    list_select_related = ("component",)
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("portal.view_auditevent")
