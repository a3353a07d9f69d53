"""Measure a canary step and decide: pass, inconclusive or fail, with the values behind it.

Reads Prometheus (and Loki when a policy counts error lines) outside any transaction, for all
the steps of a tick at once: one query per environment and number (error ratio, request rate,
p99) answers every canary, grouped `by (service, version)`. No data is never a pass: an
unreachable Prometheus or Loki, or a canary without series, answers "inconclusive (no data
since …)".
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Max
from django.utils import timezone

from integrations.errors import IntegrationError

from .logs import error_lines_count, error_lines_plan
from .models import AnalysisPolicy, AnalysisStep, AnalysisVerdict

# Below this 5xx share the comparison with the stable version is noise (two healthy versions
# may differ several times over, 0.3 % vs 1.1 %): the relative threshold applies above it.
RELATIVE_FLOOR = 0.02
WINDOW = "1m"
BATCH_SERVICES = 100  # services per Prometheus query: 500 canaries are a handful of queries
Verdict = AnalysisVerdict.Verdict


@dataclass
class Decision:
    verdict: str
    message: str
    values: dict = field(default_factory=dict)


def loki_configured() -> bool:
    """Whether Loki has an address (LOKI_URL, or the running sandbox's)."""
    from integrations.endpoints import endpoint

    try:
        endpoint("loki")
    except IntegrationError:
        return False
    return True


def measure_many(steps: list[AnalysisStep]) -> dict[int, dict | IntegrationError]:
    """The canary's and the stable version's numbers now, per step: a few Prometheus queries
    for all of them (grouped by environment, see `_groups`) and, beside them in a thread,
    Loki's error lines where the policy counts them: the tick waits for the slower system, not
    for both. A system that cannot be asked is that step's IntegrationError."""
    from concurrent.futures import ThreadPoolExecutor

    plan = error_lines_plan([step for step in steps if _counts_logs(step)])
    with ThreadPoolExecutor(max_workers=1) as pool:
        counting = pool.submit(error_lines_count, plan)
        found = _prometheus_values(steps)
        counted = counting.result()
    for step_id, lines in counted.items():
        if isinstance(found[step_id], IntegrationError):
            continue  # Prometheus' failure says it already
        if isinstance(lines, IntegrationError):
            found[step_id] = lines
        else:
            found[step_id]["error_log_lines_per_minute"] = lines
    return found


def _prometheus_values(steps: list[AnalysisStep]) -> dict[int, dict | IntegrationError]:
    from integrations.prometheus import prometheus_client

    client = prometheus_client()  # one HTTP session for the whole tick
    found: dict[int, dict | IntegrationError] = {}
    for (environment, metric), chunk in _groups(steps):
        services = [step.release.component.name for step in chunk]
        versions = [v for step in chunk for v in _versions(step.release)]
        try:
            numbers = client.canary_numbers_now(
                services, versions, environment=environment, window=WINDOW, latency_metric=metric
            )
        except IntegrationError as exc:
            found.update((step.pk, exc) for step in chunk)
            continue
        found.update((step.pk, _values(step, numbers)) for step in chunk)
    return found


def _groups(steps: list[AnalysisStep]):
    """Steps that one query answers: the same environment and latency histogram, at most
    BATCH_SERVICES services (a bounded query, whatever the number of canaries)."""
    groups: dict[tuple, list[AnalysisStep]] = {}
    for step in steps:
        policy = step.release.environment.analysis_policy
        metric = policy.latency_metric if policy.max_p99_latency_ms is not None else None
        groups.setdefault((step.release.environment.name, metric), []).append(step)
    for key, members in groups.items():
        for start in range(0, len(members), BATCH_SERVICES):
            yield key, members[start : start + BATCH_SERVICES]


def _versions(release) -> list[str]:
    if release.previous_version and release.previous_version != release.version:
        return [release.version, release.previous_version]
    return [release.version]


def _values(step: AnalysisStep, numbers: dict) -> dict:
    """One step's values from the batch's answers (absent pair: no series, no traffic)."""
    release, policy = step.release, step.release.environment.analysis_policy
    service = release.component.name
    canary = numbers["error_rate"].get((service, release.version))
    if canary is None:
        return {"canary_error_rate": None, "requests": None}
    rate = numbers["request_rate"].get((service, release.version))
    # The stable version matters only above the noise floor (see RELATIVE_FLOOR).
    relative = policy.max_error_rate_vs_stable and canary >= RELATIVE_FLOOR
    stable = None
    if relative and len(_versions(release)) == 2:
        stable = numbers["error_rate"].get((service, release.previous_version))
    values = {
        "canary_error_rate": canary,
        "stable_error_rate": stable,
        # rate x time at this step: the requests the canary served since the step began
        "requests": None
        if rate is None
        else round(rate * max(1.0, (timezone.now() - step.started_at).total_seconds())),
    }
    if policy.max_p99_latency_ms is not None:
        p99 = numbers.get("latency", {}).get((service, release.version))
        values["p99_ms"] = None if p99 is None else round(p99 * 1000, 1)
    return values


def _counts_logs(step: AnalysisStep) -> bool:
    return step.release.environment.analysis_policy.max_error_log_lines_per_minute is not None


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
    if limit is not None and lines is None:
        return Decision(
            Verdict.INCONCLUSIVE, "no error log count yet: " + _no_data(no_data_since), values
        )
    return Decision(Verdict.PASS, f"error rate {canary:.2%}, within the thresholds", values)


def evaluate_many(steps: list[AnalysisStep]) -> dict[int, Decision]:
    """Measure and decide every step; a system that cannot be asked makes that step's verdict
    inconclusive with its reason ("no data since" the last decided verdict), never a pass."""
    since = dict(
        AnalysisVerdict.objects.filter(step__in=[step.pk for step in steps])
        .exclude(verdict=Verdict.INCONCLUSIVE)
        .order_by()
        .values("step")
        .annotate(last=Max("evaluated_at"))
        .values_list("step", "last")
    )
    measured = measure_many(steps)
    decisions = {}
    for step in steps:
        values, last = measured[step.pk], since.get(step.pk) or step.started_at
        if isinstance(values, IntegrationError):
            system = {"prometheus": "Prometheus", "loki": "Loki"}.get(values.system, values.system)
            decisions[step.pk] = Decision(
                Verdict.INCONCLUSIVE,
                f"{_no_data(last)}: {system or 'Prometheus'} {values.message}"[:500],
                {"error": str(values)},
            )
        else:
            policy = step.release.environment.analysis_policy
            decisions[step.pk] = decide(values, policy, no_data_since=last)
    return decisions


def _no_data(since: datetime) -> str:
    return f"inconclusive (no data since {timezone.localtime(since):%H:%M:%S})"
