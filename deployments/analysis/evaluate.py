"""Measure a canary step and decide: pass, inconclusive or fail, with the values behind it.

Reads Prometheus (and Loki when configured) outside any transaction. No data is never a pass:
an unreachable Prometheus or a canary without series answers "inconclusive (no data since …)".
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from integrations.errors import IntegrationError

from .models import AnalysisPolicy, AnalysisStep, AnalysisVerdict

# Below this 5xx share the comparison with the stable version is noise (two healthy versions
# may differ several times over, 0.3 % vs 1.1 %): the relative threshold applies above it.
RELATIVE_FLOOR = 0.02
WINDOW = "1m"
Verdict = AnalysisVerdict.Verdict


@dataclass
class Decision:
    verdict: str
    message: str
    values: dict = field(default_factory=dict)


def error_log_lines_per_minute(release, policy: AnalysisPolicy) -> float | None:
    """HOOK (Loki): error log lines per minute of the canary, or None when Loki is not
    configured. Helper "evidence" adds `integrations/loki.py`; when it lands, call its client
    here (one Loki client in the project, not a second one)."""
    return None


def loki_configured() -> bool:
    """HOOK (Loki): True once `integrations/loki.py` is configured (see above)."""
    return False


def measure(step: AnalysisStep, policy: AnalysisPolicy) -> dict:
    """The canary's and the stable version's numbers now; raises IntegrationError."""
    from integrations.prometheus import prometheus_client

    release = step.release
    client = prometheus_client()
    service, environment = release.component.name, release.environment.name
    canary = client.error_rate_now(service, release.version, environment=environment)
    if canary is None:  # no series: nothing more to ask
        return {"canary_error_rate": None, "requests": None}
    rate = client.request_rate_now(service, release.version, environment=environment, window=WINDOW)
    stable = None
    # The stable version matters only above the noise floor (see RELATIVE_FLOOR).
    relative = policy.max_error_rate_vs_stable and canary >= RELATIVE_FLOOR
    if relative and release.previous_version and release.previous_version != release.version:
        stable = client.error_rate_now(service, release.previous_version, environment=environment)
    values = {
        "canary_error_rate": canary,
        "stable_error_rate": stable,
        # rate x time at this step: the requests the canary served since the step began
        "requests": None
        if rate is None
        else round(rate * max(1.0, (timezone.now() - step.started_at).total_seconds())),
    }
    if policy.max_p99_latency_ms is not None:
        p99 = client.latency_quantile_now(
            service,
            release.version,
            metric=policy.latency_metric,
            environment=environment,
            window=WINDOW,
        )
        values["p99_ms"] = None if p99 is None else round(p99 * 1000, 1)
    if policy.max_error_log_lines_per_minute is not None:
        values["error_log_lines_per_minute"] = error_log_lines_per_minute(release, policy)
    return values


def decide(values: dict, policy: AnalysisPolicy, *, no_data_since: datetime) -> Decision:
    """The verdict for `values` under `policy` (pure: no I/O)."""
    if values.get("canary_error_rate") is None or values.get("requests") is None:
        return Decision(Verdict.INCONCLUSIVE, _no_data(no_data_since), values)
    failures = []
    canary, stable = values["canary_error_rate"], values.get("stable_error_rate")
    if canary > policy.max_error_rate:
        failures.append(f"error rate {canary:.2%} > {policy.max_error_rate:.2%}")
    multiple = policy.max_error_rate_vs_stable
    if multiple and stable is not None and canary >= RELATIVE_FLOOR and canary > stable * multiple:
        failures.append(f"error rate {canary:.2%} > {multiple:g}× stable {stable:.2%}")
    p99 = values.get("p99_ms")
    if (
        policy.max_p99_latency_ms is not None
        and p99 is not None
        and p99 > policy.max_p99_latency_ms
    ):
        failures.append(f"p99 {p99:g} ms > {policy.max_p99_latency_ms} ms")
    lines = values.get("error_log_lines_per_minute")
    limit = policy.max_error_log_lines_per_minute
    if limit is not None and lines is not None and lines > limit:
        failures.append(f"{lines:g} error log lines/min > {limit}")
    if values["requests"] < policy.min_requests:
        return Decision(
            Verdict.INCONCLUSIVE,
            f"{values['requests']} of {policy.min_requests} requests so far: too few to judge",
            values,
        )
    if failures:
        return Decision(Verdict.FAIL, "; ".join(failures), values)
    if policy.max_p99_latency_ms is not None and p99 is None:
        return Decision(
            Verdict.INCONCLUSIVE, "no p99 latency yet: " + _no_data(no_data_since), values
        )
    return Decision(Verdict.PASS, f"error rate {canary:.2%}, within the thresholds", values)


def evaluate(step: AnalysisStep, policy: AnalysisPolicy) -> Decision:
    """Measure and decide; an integration failure is an inconclusive verdict with its reason."""
    since = (
        step.verdicts.exclude(verdict=Verdict.INCONCLUSIVE)
        .order_by("-slot")
        .values_list("evaluated_at", flat=True)
        .first()
    ) or step.started_at
    try:
        values = measure(step, policy)
    except IntegrationError as exc:
        return Decision(
            Verdict.INCONCLUSIVE,
            f"{_no_data(since)}: {exc.system or 'Prometheus'} {exc.message}"[:500],
            {"error": str(exc)},
        )
    return decide(values, policy, no_data_since=since)


def _no_data(since: datetime) -> str:
    return f"inconclusive (no data since {timezone.localtime(since):%H:%M:%S})"
