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

from django.contrib.auth import get_permission_codename
from django.db import transaction
from django.forms.models import model_to_dict
from rules.contrib.admin import ObjectPermissionsModelAdminMixin

from catalog.models import Component

from .audit import AuditContext, audit_record


class RulesAdminMixin(ObjectPermissionsModelAdminMixin):
    audit_action_prefix: str = ""

    def has_add_permission(self, request, *args):
        codename = get_permission_codename("add", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def has_module_permission(self, request):
        # ModelBackend only knows model permissions from the database; ask the rules too.
        return any(
            request.user.has_perm(f"{self.opts.app_label}.{verb}_{self.opts.model_name}")
            for verb in ("view", "add", "change", "delete")
        )

    def _audit_action(self, verb: str) -> str:
        prefix = self.audit_action_prefix or self.opts.label_lower.replace(".", "_")
        return f"{prefix}.admin_{verb}"

    def _component_of(self, obj):
        if isinstance(obj, Component):
            return obj
        component = getattr(obj, "component", None)
        return component if getattr(component, "_meta", None) else None

    def save_model(self, request, obj, form, change):
        before = None
        if change and form.changed_data:
            before = {name: form.initial.get(name) for name in form.changed_data}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            after = model_to_dict(obj, fields=form.changed_data or None)
            audit_record(
                actor=request.user,
                action=self._audit_action("change" if change else "add"),
                target=obj,
                component=self._component_of(obj),
                before=before,
                after={key: str(value) for key, value in after.items()},
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


class ReadOnlyAdminMixin:
    """For rows that only move through their services (releases, approvals, the audit log, …):
    the admin lists and shows them, and never adds, changes or deletes one."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
