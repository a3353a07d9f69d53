import secrets

from django.contrib import admin, messages

from portal.admin_mixins import ReadOnlyAdminMixin, RulesAdminMixin

from .models import ApprovalPolicy, ApprovalRequest, MachineClient
from .services import machine_client_issue


@admin.register(MachineClient)
class MachineClientAdmin(RulesAdminMixin, admin.ModelAdmin):
    """Creating a client shows its token and signing secret once; only the token's hash is kept."""

    audit_action_prefix = "approvals.machine_client"
    list_display = ["name", "all_components", "is_active", "created_at"]
    filter_horizontal = ["environments", "components"]
    fields = ["name", "environments", "all_components", "components", "is_active"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # Placeholders so the row can be saved; save_related issues the real token.
        obj.token_sha256 = secrets.token_hex(32)
        obj.signing_secret = secrets.token_urlsafe(32)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            return
        client = form.instance
        _, token, secret = machine_client_issue(
            name=client.name,
            environments=client.environments.all(),
            components=list(client.components.all()),
            all_components=client.all_components,
            actor=request.user,
        )
        messages.warning(
            request,
            f"Copy these now, they are not shown again. Token: {token} — signing secret: {secret}",
        )


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(RulesAdminMixin, admin.ModelAdmin):
    audit_action_prefix = "approvals.policy"
    list_display = [
        "environment",
        "approvers",
        "quorum",
        "on_expiry",
        "default_ttl_minutes",
        "train_approvals",
    ]


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Decisions are made on the approval page (RBAC, audit, signal); here they are only read."""

    list_display = [
        "component",
        "environment",
        "rollout_phase",
        "state",
        "decided_by",
        "signal_state",
        "expires_at",
    ]
    list_filter = ["state", "signal_state", "environment"]
    search_fields = ["component__name", "requester_label"]
    list_select_related = ["component", "environment", "decided_by"]
