"""Reads of analysis gates for pages and for the approval flow."""

from .models import AnalysisStep


def analysis_gate_open(release) -> tuple[bool, str]:
    """Whether a person may let `release` go on from the step it is paused at: True when its
    environment has no analysis policy, or the step soaked and passed. HOOK for the approval
    service (helper "govflow" owns approvals/): refuse or hide the approval until this is True.
    """
    if not hasattr(release.environment, "analysis_policy"):
        return True, ""
    step = AnalysisStep.objects.filter(release=release, step=release.current_step).first()
    if step is None:
        return False, "The analysis of this step has not started yet."
    if step.outcome == AnalysisStep.Outcome.PASSED:
        return True, ""
    if step.outcome == AnalysisStep.Outcome.FAILED:
        return False, "The analysis failed: the release is aborted."
    return False, f"Soaking: {step.soak_left_seconds} s left before the approval is offered."


def analysis_steps_of(release) -> list[AnalysisStep]:
    """The release's analysed steps with their verdicts (two queries)."""
    return list(
        AnalysisStep.objects.filter(release=release).prefetch_related("verdicts").order_by("step")
    )
