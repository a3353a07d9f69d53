from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.socialaccount.admin import SocialAccountAdmin, SocialAppAdmin
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.contrib.sites.admin import SiteAdmin
from django.contrib.sites.models import Site
from django.db import transaction

from .admin_mixins import AuditedAdminMixin, ReadOnlyAdminMixin, RulesAdminMixin
from .audit import AuditContext, audit_record
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


# Django's and allauth's own models, registered again so that every change made to them in the
# admin is audited (who granted whom the "sre" group, who changed the SSO app's secret ...).
def _reregister(model, admin_class, prefix: str, **attrs):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    audited = type(f"Audited{admin_class.__name__}", (AuditedAdminMixin, admin_class), {
        "audit_action_prefix": prefix, "__module__": __name__, **attrs,
    })  # fmt: skip
    admin.site.register(model, audited)


class AuditedPasswordMixin:
    """The admin's password form saves outside save_model: audit it here."""

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = get_user_model().objects.get(pk=id)
                audit_record(
                    actor=request.user, action="identity.user.admin_password", target=user,
                    context=AuditContext.from_request(request),
                )  # fmt: skip
        return response


_reregister(get_user_model(), type("UserAdmin", (AuditedPasswordMixin, UserAdmin), {}),
            "identity.user")  # fmt: skip
_reregister(Group, GroupAdmin, "identity.group")
_reregister(Site, SiteAdmin, "portal.site")
_reregister(EmailAddress, EmailAddressAdmin, "identity.email")
_reregister(SocialApp, SocialAppAdmin, "identity.sso_app")
_reregister(SocialAccount, SocialAccountAdmin, "identity.sso_account")
if admin.site.is_registered(SocialToken):
    admin.site.unregister(SocialToken)  # tokens are not stored (SOCIALACCOUNT_STORE_TOKENS)
