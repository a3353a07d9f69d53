"""Analysis gates: what a canary step must show (per environment), and what it showed.

One `AnalysisStep` per release step being measured (its soak clock and outcome), one
`AnalysisVerdict` per evaluation. An evaluation is claimed by moving the step's
`next_evaluation_at` conditionally, and a verdict is unique per (step, slot): a duplicate or late
task writes nothing.
"""

from django.db import models
from django.utils import timezone


class AnalysisPolicy(models.Model):
    """Thresholds a canary step must meet in one environment (set by the platform team)."""

    environment = models.OneToOneField(
        "catalog.Environment", on_delete=models.CASCADE, related_name="analysis_policy"
    )
    max_error_rate = models.FloatField(
        default=0.05, help_text="Fail when the canary's 5xx share is above this (0.05 = 5%)"
    )
    max_error_rate_vs_stable = models.FloatField(
        null=True,
        blank=True,
        default=3.0,
        help_text="Fail when the canary's 5xx share is above this multiple of the stable "
        "version's (empty: not compared)",
    )
    max_p99_latency_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="Fail when the canary's p99 latency is above this"
    )
    latency_metric = models.CharField(
        max_length=200,
        default="http_request_duration_seconds",
        help_text="Prometheus histogram (seconds) the p99 is computed from (its _bucket series)",
    )
    max_error_log_lines_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Fail when Loki counts more error lines per minute (needs Loki configured)",
    )
    min_requests = models.PositiveIntegerField(
        default=100, help_text="No verdict before the canary has served this many requests"
    )
    interval_seconds = models.PositiveIntegerField(default=10, help_text="Evaluate every N s")
    soak_seconds = models.PositiveIntegerField(
        default=120, help_text="Time each step must keep passing before it may go on"
    )

    class Meta:
        verbose_name_plural = "analysis policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_error_rate__gte=0, max_error_rate__lte=1),
                name="analysis_error_rate_is_a_share",
            ),
            models.CheckConstraint(
                condition=models.Q(interval_seconds__gte=1), name="analysis_interval_positive"
            ),
        ]

    def __str__(self):
        return f"Analysis in {self.environment}"


class AnalysisStep(models.Model):
    class Outcome(models.TextChoices):
        ANALYSING = "analysing", "Analysing"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"
        ENDED = "ended", "Ended"  # the release moved on or stopped meanwhile

    release = models.ForeignKey(
        "deployments.Release", on_delete=models.CASCADE, related_name="analysis_steps"
    )
    step = models.PositiveSmallIntegerField()
    weight = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    soak_ends_at = models.DateTimeField()
    next_evaluation_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.ANALYSING)
    decided_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the analysis let the canary go on from this step"
    )

    class Meta:
        ordering = ["release", "step"]
        constraints = [
            models.UniqueConstraint(fields=["release", "step"], name="analysis_step_once")
        ]
        indexes = [models.Index(fields=["outcome", "next_evaluation_at"])]

    def __str__(self):
        return f"release {self.release_id} step {self.step} ({self.weight}%): {self.outcome}"

    @property
    def soak_left_seconds(self) -> int:
        return max(0, int((self.soak_ends_at - timezone.now()).total_seconds() + 0.999))


class AnalysisVerdict(models.Model):
    class Verdict(models.TextChoices):
        PASS = "pass", "Pass"
        INCONCLUSIVE = "inconclusive", "Inconclusive"
        FAIL = "fail", "Fail"

    step = models.ForeignKey(AnalysisStep, on_delete=models.CASCADE, related_name="verdicts")
    slot = models.BigIntegerField(help_text="The evaluation's claimed time (epoch ms)")
    evaluated_at = models.DateTimeField(default=timezone.now)
    verdict = models.CharField(max_length=12, choices=Verdict.choices)
    message = models.CharField(max_length=500)
    values = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["step", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["step", "slot"], name="analysis_verdict_once")
        ]

    def __str__(self):
        return f"{self.step}: {self.verdict} ({self.message})"
