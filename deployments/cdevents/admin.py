"""CDEvent sinks in the admin (platform admins; through the audited services), and the outbox,
read-only (SREs and platform admins see what was sent where, and why not)."""

from django import forms
from django.contrib import admin

from portal.admin_mixins import ReadOnlyAdminMixin, RulesAdminMixin
from portal.audit import AuditContext

from .models import CDEvent, CDEventDelivery, EventSink
from .services import event_sink_delete, event_sink_save, event_sink_url_problem, sink_values


class EventSinkForm(forms.ModelForm):
    token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Left empty: the stored token is kept",
    )

    class Meta:
        model = EventSink
        fields = ["name", "url", "mode", "enabled", "token"]

    def clean_url(self):
        url = self.cleaned_data.get("url") or ""
        if problem := event_sink_url_problem(url):
            raise forms.ValidationError(problem)
        return url

    def clean_token(self):
        return self.cleaned_data.get("token") or (self.instance.token if self.instance.pk else "")


@admin.register(EventSink)
class EventSinkAdmin(RulesAdminMixin, admin.ModelAdmin):
    form = EventSinkForm
    audit_action_prefix = "cdevents.sink"
    audit_saves = False  # event_sink_save audits
    list_display = ["name", "url", "mode", "enabled", "created_at"]
    list_filter = ["enabled", "mode"]

    def save_model(self, request, obj, form, change):
        before = sink_values(EventSink.objects.get(pk=obj.pk)) if change else None
        event_sink_save(
            actor=request.user, sink=obj, before=before, context=AuditContext.from_request(request)
        )

    def delete_model(self, request, obj):
        event_sink_delete(actor=request.user, sink=obj, context=AuditContext.from_request(request))


class DeliveryInline(admin.TabularInline):
    model = CDEventDelivery
    extra = 0
    can_delete = False
    fields = readonly_fields = ["sink", "state", "attempts", "next_attempt_at", "delivered_at",
                                "last_error"]  # fmt: skip

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CDEvent)
class CDEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written by the release machine only: shown, never edited."""

    list_display = ["id", "type", "stream", "created_at"]
    list_filter = ["type"]
    search_fields = ["stream", "event_id"]
    raw_id_fields = ["release"]
    inlines = [DeliveryInline]
