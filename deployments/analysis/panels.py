"""The analysis card beside the error-rate sparklines (release and approval pages)."""

from deployments.releases.models import Release
from deployments.releases.panels import ReleasePanel
from portal.panels import APPROVAL, RELEASE, register

from .models import AnalysisVerdict
from .selectors import analysis_gate_open, analysis_steps_of

CHART_WIDTH, CHART_HEIGHT = 160, 36
VERDICT_CLASS = {"pass": "badge-ok", "inconclusive": "badge-warn", "fail": "badge-bad"}


def verdict_chart(verdicts: list[AnalysisVerdict], limit: float) -> dict:
    """The canary error rate of each evaluation as points, the threshold as a line (SVG units)."""
    rates = [(v.values or {}).get("canary_error_rate") for v in verdicts]
    top = max([limit * 1.5, *[r for r in rates if r is not None]]) or 1.0
    step = CHART_WIDTH / max(1, len(verdicts) - 1)
    dots = [
        {
            "x": round(index * step, 1),
            "y": round(CHART_HEIGHT - (rate or 0) / top * CHART_HEIGHT, 1),
            "verdict": verdict.verdict,
            "label": f"{verdict.evaluated_at:%H:%M:%S} {verdict.verdict}",
        }
        for index, (verdict, rate) in enumerate(zip(verdicts, rates, strict=True))
    ]
    return {
        "dots": dots,
        "points": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "limit_y": round(CHART_HEIGHT - limit / top * CHART_HEIGHT, 1),
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
    }


def verdict_values(values: dict) -> list[tuple[str, str]]:
    """The values behind a verdict, as a person reads them."""

    def percent(key):
        value = values.get(key)
        return "no data" if value is None else f"{value:.2%}"

    rows = []
    if "canary_error_rate" in values:
        rows.append(("Canary errors", percent("canary_error_rate")))
    if "stable_error_rate" in values:
        stable = values["stable_error_rate"]
        rows.append(("Stable errors", "not compared" if stable is None else f"{stable:.2%}"))
    if "requests" in values:
        rows.append(
            ("Requests", "no data" if values["requests"] is None else str(values["requests"]))
        )
    if "p99_ms" in values:
        rows.append(
            ("p99 latency", "no data" if values["p99_ms"] is None else f"{values['p99_ms']:g} ms")
        )
    if "error_log_lines_per_minute" in values:
        lines = values["error_log_lines_per_minute"]
        rows.append(
            ("Error log lines/min", "Loki not configured" if lines is None else f"{lines:g}")
        )
    if "error" in values:
        rows.append(("Error", values["error"]))
    return rows


@register
class AnalysisPanel(ReleasePanel):
    """Per analysed step: the verdict, the values behind it, the soak countdown, a chart."""

    name = "analysis"
    title = "Analysis"
    url_name = "deployments:panel_analysis"
    template = "deployments/analysis/_analysis.html"
    refresh = 5
    lazy = True
    pages = {RELEASE: ("aside", 15), APPROVAL: ("aside", 25)}

    def target(self, subject):
        release = super().target(subject)
        if release is None or release.strategy != Release.Strategy.CANARY:
            return None
        return release

    def context(self, request, target, page) -> dict:
        policy = getattr(target.environment, "analysis_policy", None)
        steps = []
        for step in analysis_steps_of(target) if policy else []:
            verdicts = list(step.verdicts.all())[-30:]
            steps.append(
                {
                    "step": step,
                    "last": verdicts[-1] if verdicts else None,
                    "badge": VERDICT_CLASS.get(verdicts[-1].verdict, "") if verdicts else "",
                    "chart": verdict_chart(verdicts, policy.max_error_rate),
                    "values": verdict_values(verdicts[-1].values) if verdicts else [],
                }
            )
        gate = analysis_gate_open(target) if policy and target.state == "paused" else (True, "")
        return {"release": target, "policy": policy, "steps": steps, "gate_message": gate[1]}
