"""The platform team's guardrails and runtime keys, in the admin (audited by RulesAdminMixin)."""

from django import forms
from django.contrib import admin

from portal.admin_mixins import ReadOnlyAdminMixin, RulesAdminMixin
from portal.errors import ValidationFailed

from .knobs import KNOBS
from .models import ControlAction, ControlPolicy, TuningKey, TuningValue
from .tuning import KEY_RE, tuning_parse

ROLE_FIELDS = tuple(f"{knob.policy_prefix}_roles" for knob in KNOBS.values())
OPTIONAL_BOUNDS = tuple(name for knob in KNOBS.values() for name in knob.guardrail_optional)
ENABLED_FIELDS = tuple(f"{knob.policy_prefix}_enabled" for knob in KNOBS.values())
RANGE_PAIRS = tuple(pair for knob in KNOBS.values() for pair in knob.guardrail_pairs)


def _flat(layout) -> list[str]:
    return [name for entry in layout for name in (entry if isinstance(entry, tuple) else (entry,))]


GUARDRAIL_FIELDS = [name for knob in KNOBS.values() for name in _flat(knob.guardrail_layout)]


def _roles_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=ControlPolicy.Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class ControlPolicyForm(forms.ModelForm):
    class Meta:
        model = ControlPolicy
        fields = [
            "environment",
            "component",
            "note",
            "argocd_auto_sync",
            *GUARDRAIL_FIELDS,
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ROLE_FIELDS:  # one "who may" checkbox list per knob
            self.fields[name] = _roles_field()
        for name in OPTIONAL_BOUNDS:
            self.fields[name].required = False

    def clean(self):
        data = super().clean()
        for name in OPTIONAL_BOUNDS:  # left empty: the model's default range
            if data.get(name) is None and name not in self.errors:
                data[name] = ControlPolicy._meta.get_field(name).default
        environment = data.get("environment")
        if environment is not None and environment.is_production:
            for name in ROLE_FIELDS:
                if ControlPolicy.Role.OTHER_TEAMS in (data.get(name) or []):
                    self.add_error(
                        name, "Production stays with the owning team and SREs: not other teams."
                    )
        for low, high in RANGE_PAIRS:
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(high, "must not be below the lower bound")
        for knob in KNOBS.values():
            for name, message in knob.guardrail_errors(data):
                self.add_error(name, message)
        return data


@admin.register(ControlPolicy)
class ControlPolicyAdmin(RulesAdminMixin, admin.ModelAdmin):
    form = ControlPolicyForm
    audit_action_prefix = "guardrail"
    list_display = [
        "__str__",
        "environment",
        "component",
        *ENABLED_FIELDS,
        "argocd_auto_sync",
    ]
    list_filter = ["environment", *ENABLED_FIELDS]
    raw_id_fields = ["component"]
    list_select_related = ["environment", "component"]
    fieldsets = [
        (None, {"fields": ["environment", "component", "note", "argocd_auto_sync"]}),
        *((knob.guardrail_title, {"fields": knob.guardrail_layout}) for knob in KNOBS.values()),
    ]


class TuningKeyForm(forms.ModelForm):
    class Meta:
        model = TuningKey
        fields = ["component", "key", "kind", "default", "description", "minimum", "maximum"]

    def clean(self):
        data = super().clean()
        key = data.get("key") or ""
        if key and not KEY_RE.match(key):
            self.add_error("key", "letters, digits, '.', '_' and '-' only (a ConfigMap key)")
        if data.get("kind") and "default" in data and not self.errors:
            probe = TuningKey(**{k: data.get(k) for k in ("key", "kind", "minimum", "maximum")})
            try:
                data["default"] = tuning_parse(probe, data["default"])
            except ValidationFailed as exc:
                self.add_error("default", exc.message)
        return data


@admin.register(TuningKey)
class TuningKeyAdmin(RulesAdminMixin, admin.ModelAdmin):
    form = TuningKeyForm
    audit_action_prefix = "tuning_key"
    list_display = ["key", "component", "kind", "default", "description"]
    list_filter = ["kind"]
    search_fields = ["key", "component__name"]
    raw_id_fields = ["component"]
    list_select_related = ["component"]


@admin.register(ControlAction)
class ControlActionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A record of what people asked Kubernetes to do: read-only."""

    list_display = ["created_at", "component", "environment", "kind", "state", "requested_by"]
    list_filter = ["state", "kind", "environment"]
    list_select_related = ["component", "environment", "requested_by"]


@admin.register(TuningValue)
class TuningValueAdmin(ControlActionAdmin):
    """Values change on the tuning page (audited there); the admin only shows them."""

    list_display = ["key", "environment", "value", "override_value", "override_until", "pushed_at"]
    list_filter = ["environment"]
    list_select_related = ["key__component", "environment"]
