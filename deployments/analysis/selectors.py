"""Reads of analysis gates for pages and for the approval flow."""

from django.utils import timezone

from .models import AnalysisStep, AnalysisVerdict


def analysis_gate_open(release, *, offered: str = "the approval is offered") -> tuple[bool, str]:
    """Whether a person may let `release` go on from the step it is paused at, and why not (or
    what to know). Open when its environment has no analysis policy, when the step soaked and
    passed, or when the soak is over and the analysis could not decide (inconclusive waits for
    a person). Closed while the step soaks (a countdown), before its analysis started and after
    it failed. The approval service refuses approvals while it is closed, and a plain promote
    (where no approval policy applies) is held the same way."""
    if not hasattr(release.environment, "analysis_policy"):
        return True, ""
    step = AnalysisStep.objects.filter(release=release, step=release.current_step).first()
    if step is None:
        return False, "The analysis of this step has not started yet."
    if step.outcome == AnalysisStep.Outcome.PASSED:
        return True, ""
    if step.outcome == AnalysisStep.Outcome.FAILED:
        return False, "The analysis failed: the release is aborted."
    if step.outcome == AnalysisStep.Outcome.ENDED or step.soak_left_seconds <= 0:
        last = step.verdicts.order_by("-slot").values_list("verdict", flat=True).first()
        if last == AnalysisVerdict.Verdict.PASS:
            return True, ""
        return True, "The soak is over but the analysis could not decide: you decide."
    return False, (
        f"Soaking: {step.soak_left_seconds} s left before {offered} "
        f"(until {timezone.localtime(step.soak_ends_at):%H:%M:%S})."
    )


def analysis_soak_left(release) -> int:
    """Seconds left of the soak of the step `release` is at, while it is analysed; else 0."""
    step = (
        AnalysisStep.objects.filter(
            release=release, step=release.current_step, outcome=AnalysisStep.Outcome.ANALYSING
        )
        .only("soak_ends_at")
        .first()
    )
    return step.soak_left_seconds if step else 0


def analysis_steps_of(release) -> list[AnalysisStep]:
    """The release's analysed steps with their verdicts (two queries)."""
    return list(
        AnalysisStep.objects.filter(release=release).prefetch_related("verdicts").order_by("step")
    )
