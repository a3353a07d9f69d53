"""Analysis policies in the admin: audited, and refused on save when they cannot be evaluated."""

from django import forms
from django.contrib import admin

from portal.admin_mixins import ReadOnlyAdminMixin, RulesAdminMixin

from .models import AnalysisPolicy, AnalysisStep, AnalysisVerdict
from .services import analysis_policy_problems


class AnalysisPolicyForm(forms.ModelForm):
    class Meta:
        model = AnalysisPolicy
        fields = [
            "environment",
            "max_error_rate",
            "max_error_rate_vs_stable",
            "max_p99_latency_ms",
            "latency_metric",
            "max_error_log_lines_per_minute",
            "min_requests",
            "interval_seconds",
            "soak_seconds",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        policy = AnalysisPolicy(
            environment=cleaned["environment"],
            max_p99_latency_ms=cleaned.get("max_p99_latency_ms"),
            latency_metric=cleaned.get("latency_metric") or "",
            max_error_log_lines_per_minute=cleaned.get("max_error_log_lines_per_minute"),
        )
        # Asks Prometheus (and Loki) whether the thresholds can be measured at all.
        for problem in analysis_policy_problems(policy):
            self.add_error(None, problem)
        return cleaned


@admin.register(AnalysisPolicy)
class AnalysisPolicyAdmin(RulesAdminMixin, admin.ModelAdmin):
    form = AnalysisPolicyForm
    audit_action_prefix = "analysis_policy"
    list_display = [
        "environment",
        "max_error_rate",
        "max_error_rate_vs_stable",
        "max_p99_latency_ms",
        "min_requests",
        "interval_seconds",
        "soak_seconds",
    ]


class AnalysisVerdictInline(admin.TabularInline):
    model = AnalysisVerdict
    extra = 0
    can_delete = False
    readonly_fields = ["evaluated_at", "verdict", "message", "values"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AnalysisStep)
class AnalysisStepAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written by beat only: shown, never edited."""

    list_display = ["release", "step", "weight", "outcome", "started_at", "soak_ends_at"]
    list_filter = ["outcome"]
    raw_id_fields = ["release"]
    inlines = [AnalysisVerdictInline]
