"""The Django admin site of Switchyard: SREs and platform admins get in by their role.

Django's own site lets in `is_staff` users only; a role granted by a group (the demo's local
`sam`, or an SRE added by hand) would see "not authorized". What each person may then see and
change is still each ModelAdmin's permissions (django-rules, audited mixins).
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from .rules import PLATFORM_ADMIN_GROUP, SRE_GROUP


class PortalAdminSite(admin.AdminSite):
    site_header = "Switchyard administration"
    site_title = "Switchyard admin"

    def has_permission(self, request):
        user = request.user
        if not user.is_active:
            return False
        if user.is_staff:
            return True
        return user.groups.filter(name__in=[SRE_GROUP, PLATFORM_ADMIN_GROUP]).exists()


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin_site.PortalAdminSite"
