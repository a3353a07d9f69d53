"""Admin building blocks: object permissions from django-rules, and an audit row per change.

Use on any ModelAdmin (documented in docs/access.md):

    from portal.admin_mixins import RulesAdminMixin

    @admin.register(Knob)
    class KnobAdmin(RulesAdminMixin, admin.ModelAdmin):
        audit_action_prefix = "knob"          # -> "knob.admin_add" / "_change" / "_delete"

Add/change/delete/view buttons and pages then follow `<app>.<verb>_<model>` rules (with the
object, so `is_owner_team_lead` and friends work), and every save or delete made in the admin is
written to the audit log in the same transaction, with the changed fields before and after.
"""

import re

from django.contrib.auth import get_permission_codename
from django.db import transaction
from django.forms.models import model_to_dict
from rules.contrib.admin import ObjectPermissionsModelAdminMixin

from catalog.models import Component

from .audit import AuditContext, audit_record
from .rules import PLATFORM_ADMIN_GROUP, SRE_GROUP

SECRET_FIELD = re.compile(r"secret|token|password|private_key|api_key", re.IGNORECASE)


def _plain(value) -> str | list[str]:
    if isinstance(value, (list, tuple, set)) or hasattr(value, "all"):
        items = value.all() if hasattr(value, "all") else value
        return sorted(str(item) for item in items)
    return str(value)


def _audit_values(values: dict) -> dict:
    """Field values as text; secrets (tokens, signing secrets, password hashes) never logged."""
    return {
        key: "(changed, not shown)" if SECRET_FIELD.search(key) else _plain(value)
        for key, value in values.items()
    }


class AuditedAdminMixin:
    """Every save and delete made through this admin writes an audit row in the admin's own
    transaction: `<audit_action_prefix>.admin_add` / `_change` / `_delete`, with the changed
    fields before and after (many-to-many ones too, read after they are saved).

    Bulk actions other than "delete selected" are dropped unless named in `audited_actions`
    (an action listed there must write its own audit rows). Set `audit_saves = False` when
    `save_model` already goes through an audited service.
    """

    audit_action_prefix: str = ""
    audit_saves: bool = True
    audited_actions: tuple[str, ...] = ()

    def _audit_action(self, verb: str) -> str:
        prefix = self.audit_action_prefix or self.opts.label_lower.replace(".", "_")
        return f"{prefix}.admin_{verb}"

    def _component_of(self, obj):
        if isinstance(obj, Component):
            return obj
        component = getattr(obj, "component", None)
        return component if getattr(component, "_meta", None) else None

    def get_actions(self, request):
        actions = super().get_actions(request)
        allowed = {"delete_selected", *self.audited_actions}
        return {name: action for name, action in actions.items() if name in allowed}

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not self.audit_saves:
            return
        obj, fields = form.instance, form.changed_data
        before = {name: form.initial.get(name) for name in fields} if change and fields else None
        after = {name: form.cleaned_data.get(name) for name in fields if name in form.cleaned_data}
        with transaction.atomic():
            audit_record(
                actor=request.user,
                action=self._audit_action("change" if change else "add"),
                target=obj,
                component=self._component_of(obj),
                before=_audit_values(before) if before else None,
                after=_audit_values(after or model_to_dict(obj)),
                context=AuditContext.from_request(request),
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_record(
                actor=request.user,
                action=self._audit_action("delete"),
                target=obj,
                component=self._component_of(obj),
                before={"object": str(obj)},
                context=AuditContext.from_request(request),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        """Inline rows (subcomponents, edges, environments) are audited like the parent."""
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            context = AuditContext.from_request(request)
            parent = form.instance
            parent_component = parent if isinstance(parent, Component) else None
            rows = [("add", obj, None) for obj in formset.new_objects]
            rows += [("change", obj, fields) for obj, fields in formset.changed_objects]
            rows += [("delete", obj, None) for obj in formset.deleted_objects]
            for verb, obj, fields in rows:
                audit_record(
                    actor=request.user,
                    action=f"{obj._meta.label_lower.replace('.', '_')}.admin_{verb}",
                    target=None if verb == "delete" else obj,
                    component=self._component_of(obj) or parent_component,
                    before={"object": str(obj)} if verb == "delete" else None,
                    after={"fields": fields} if fields else None,
                    context=context,
                )


class RulesAdminMixin(AuditedAdminMixin, ObjectPermissionsModelAdminMixin):
    """Audited, with add/change/delete/view following the `<app>.<verb>_<model>` rules."""

    def has_add_permission(self, request, *args):
        codename = get_permission_codename("add", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def has_module_permission(self, request):
        # ModelBackend only knows model permissions from the database; ask the rules too.
        return any(
            request.user.has_perm(f"{self.opts.app_label}.{verb}_{self.opts.model_name}")
            for verb in ("view", "add", "change", "delete")
        )


class ReadOnlyAdminMixin:
    """For rows that only move through their services (releases, approvals, the audit log, …):
    the admin lists and shows them, and never adds, changes or deletes one."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # SREs and platform admins read every record the services write.
        return (
            request.user.has_perm(f"{self.opts.app_label}.view_{self.opts.model_name}")
            or request.user.groups.filter(name__in=[SRE_GROUP, PLATFORM_ADMIN_GROUP]).exists()
        )

    def has_module_permission(self, request):
        return self.has_view_permission(request)
