"""Error log lines per minute of canaries, from Loki (the logs cards' selectors and client).

The canaries of one environment whose log selector differs only in the service's own label
(`app="cart"`, `app="ledger"`) are counted by one query, `sum by (app, version)`; a selector of
another shape (a regular expression on the workload) is counted on its own.
"""

import re
import time

from catalog.models import ComponentEnvironment
from integrations.errors import IntegrationError
from integrations.loki import ERROR_LEVELS, count_query, log_query, loki_client, stream_selector

WINDOW_SECONDS = 60
BATCH_SERVICES = 100


def error_lines_per_minute(steps) -> dict[int, float | IntegrationError]:
    """{step id: error lines in the last minute of its canary's version, or the failure}.
    No series means Loki answered and counted none: 0."""
    return error_lines_count(error_lines_plan(steps))


def error_lines_plan(steps) -> list[tuple]:
    """The Loki queries that count `steps` (reads the catalog: call it where the database
    is), as [(version label, service label or None, other matchers, steps and their value)]."""
    if not steps:
        return []
    from logs.selectors import matchers

    targets = _targets(steps)
    groups: dict[tuple, list] = {}
    for step in steps:
        target = targets[(step.release.component_id, step.release.environment_id)]
        found = matchers(target)
        names = {step.release.component.name, _workload(target)}
        own = next((m for m in found if m[1] == "=" and m[2] in names), None)
        others = tuple(m for m in found if m is not own)
        label = own[0] if own else None
        key = (target.environment.log_version_label, label, others, None if own else step.pk)
        groups.setdefault(key, []).append((step, own[2] if own else None))
    return [
        (version_label, label, others, members[start : start + BATCH_SERVICES])
        for (version_label, label, others, _), members in groups.items()
        for start in range(0, len(members), BATCH_SERVICES)  # bounded queries
    ]


def error_lines_count(plan: list[tuple]) -> dict[int, float | IntegrationError]:
    """Ask Loki the planned queries (no database: may run beside the Prometheus queries)."""
    if not plan:
        return {}
    client = loki_client()  # one session for the tick
    counted: dict[int, float | IntegrationError] = {}
    for version_label, label, others, members in plan:
        counted.update(_count(client, version_label, label, others, members))
    return counted


def _count(client, version_label, label, others, members) -> dict:
    versions = sorted({step.release.version for step, _ in members})
    selector = list(others)
    if label:
        selector.append((label, "=~", _alternation(value for _, value in members)))
    selector.append((version_label, "=~", _alternation(versions)))
    by = (label, version_label) if label else (version_label,)
    query = count_query(log_query(stream_selector(selector), levels=ERROR_LEVELS), by=by)
    end = time.time()
    try:
        series = client.counts(query, start=end, end=end, step=WINDOW_SECONDS)
    except IntegrationError as exc:
        return {step.pk: exc for step, _ in members}
    per_pair = {
        (s.label(label) if label else None, s.label(version_label)): (
            s.samples[-1].value if s.samples else 0.0
        )
        for s in series
    }
    return {step.pk: per_pair.get((value, step.release.version), 0.0) for step, value in members}


def _alternation(values) -> str:
    return "|".join(re.escape(value) for value in sorted(set(values)))


def _workload(target: ComponentEnvironment) -> str:
    return target.kube_rollout or target.kube_deployment or target.component.name


def _targets(steps) -> dict[tuple[int, int], ComponentEnvironment]:
    """Each canary's catalog row (one query), an unsaved one where the catalog has none."""
    pairs = {(s.release.component_id, s.release.environment_id): s.release for s in steps}
    rows = ComponentEnvironment.objects.filter(
        component_id__in={c for c, _ in pairs}, environment_id__in={e for _, e in pairs}
    ).select_related("component", "environment")
    found = {(row.component_id, row.environment_id): row for row in rows}
    for key, release in pairs.items():
        found.setdefault(
            key, ComponentEnvironment(component=release.component, environment=release.environment)
        )
    return found
