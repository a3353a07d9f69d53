"""Reads from Loki for the logs cards: queries built from the catalog's log settings.

Loki being down, slow or refusing is a `problem` sentence on the card, never an exception: the
page renders, and the card says what to do next.
"""

import json
import re
import string
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import rules
from django.conf import settings

from catalog.models import ComponentEnvironment
from integrations.errors import IntegrationError
from integrations.loki import ERROR_LEVELS, count_query, log_query, loki_client, stream_selector

from .explore import explore_url
from .redaction import redact

MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")\s*')
SPARK_WIDTH, SPARK_HEIGHT = 240, 40


@dataclass(frozen=True)
class Line:
    at: datetime
    pod: str
    version: str
    level: str
    text: str  # redacted, then cut to LOGS_MAX_LINE_CHARS
    cut: bool


@dataclass
class VersionLogs:
    label: str  # "new" or "stable" on a release; the environment's versions on the service page
    version: str
    errors: int = 0
    per_minute: list[int] = field(default_factory=list)
    points: str = ""  # the sparkline's polyline
    lines: list[Line] = field(default_factory=list)
    explore: str = ""


@dataclass
class EnvironmentLogs:
    environment: object  # catalog Environment
    readable: bool
    versions: list[VersionLogs] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    explore: str = ""
    problem: str = ""


def minutes_shown() -> int:
    return max(1, min(15, settings.LOGS_MAX_MINUTES))


def matchers(target: ComponentEnvironment) -> list[tuple[str, str, str]]:
    """The component's stream selector here, from its own template or its environment's."""
    environment, component = target.environment, target.component
    values = {
        "component": component.name,
        "workload": target.kube_rollout or target.kube_deployment or component.name,
        "environment": environment.name,
        "namespace": environment.kube_namespace or "default",
    }
    escaped = {k: json.dumps(v)[1:-1] for k, v in values.items()}
    template = target.log_selector or environment.log_selector
    filled = string.Template(template).safe_substitute(escaped)
    return [
        (m[1], m[2], json.loads(m[3]))
        for part in filled.split(",")
        if (m := MATCHER.fullmatch(part))
    ]


def error_query(target: ComponentEnvironment, versions: list[str] = ()) -> str:
    found = matchers(target)
    label = target.environment.log_version_label
    if len(versions) == 1:
        found.append((label, "=", versions[0]))
    elif versions:
        found.append((label, "=~", "|".join(re.escape(v) for v in versions)))
    return log_query(stream_selector(found), levels=ERROR_LEVELS)


def problem_text(exc: IntegrationError) -> str:
    if exc.status == 400 or not exc.transient:
        return (
            f"Loki refused the query ({exc.message}). Check this environment's log selector "
            "in the catalog (admin, Environments)."
        )
    return (
        f"Loki could not be asked ({exc.message}). The card tries again by itself; "
        "meanwhile use Grafana Explore or kubectl logs."
    )


def lines_of(found, version_label: str) -> list[Line]:
    size = settings.LOGS_MAX_LINE_CHARS
    shown = []
    for entry in found[: settings.LOGS_MAX_LINES]:
        text = redact(entry.line)
        level = ""
        try:
            level = str(json.loads(entry.line).get("level", ""))
        except (ValueError, AttributeError):
            pass
        shown.append(
            Line(
                at=datetime.fromtimestamp(entry.timestamp, UTC),
                pod=entry.label("pod"),
                version=entry.label(version_label),
                level=level,
                text=text[:size],
                cut=len(text) > size,
            )
        )
    return shown


def environment_errors(target: ComponentEnvironment, found: EnvironmentLogs) -> EnvironmentLogs:
    """Error lines of the last minutes in one environment: a count per version, the latest.
    Loki only (no database), so that the service card asks every environment at once."""
    minutes, label = minutes_shown(), target.environment.log_version_label
    try:
        query = error_query(target)
        found.explore = explore_url(query, minutes)
        client = loki_client()
        end = time.time()
        series = client.counts(
            count_query(query, window=f"{minutes}m", by=(label,)), start=end, end=end, step=60
        )
        found.versions = sorted(
            (VersionLogs(label, s.label(label), errors=int(s.total)) for s in series),
            key=lambda v: -v.errors,
        )
        found.lines = lines_of(
            client.lines(query, start=end - minutes * 60, end=end, limit=3), label
        )
    except IntegrationError as exc:
        found.problem = problem_text(exc)
    return found


def service_errors(user, component) -> list[EnvironmentLogs]:
    """The service page's card: each environment the component runs in, asked side by side."""
    rows = list(component.deployments.select_related("environment", "component"))
    found = [
        EnvironmentLogs(row.environment, rules.has_perm("logs.read_logs", user, row))
        for row in rows
    ]
    asked = [(row, logs) for row, logs in zip(rows, found, strict=True) if logs.readable]
    if asked:
        with ThreadPoolExecutor(max_workers=min(len(asked), 6)) as pool:
            list(pool.map(lambda pair: environment_errors(*pair), asked))
    return found


def release_target(release) -> ComponentEnvironment:
    """The release's ComponentEnvironment (an unsaved one when the catalog has none)."""
    row = (
        ComponentEnvironment.objects.filter(
            component_id=release.component_id, environment_id=release.environment_id
        )
        .select_related("component", "environment")
        .first()
    )
    return row or ComponentEnvironment(component=release.component, environment=release.environment)


def release_logs(release) -> tuple[list[VersionLogs], str]:
    """The new version beside the stable one: error lines per minute and the latest of each."""
    target = release_target(release)
    sides = [VersionLogs("new", release.version)]
    if release.previous_version:
        sides.append(VersionLogs("stable", release.previous_version))
    minutes, label = minutes_shown(), target.environment.log_version_label
    end = time.time()
    start = end - minutes * 60
    try:
        loki_client()  # fails fast with what to configure when Loki has no address
        queries = [error_query(target, [side.version]) for side in sides]
        both = count_query(error_query(target, [side.version for side in sides]), by=(label,))
        limit = settings.LOGS_MAX_LINES
        # One client per call, side by side: the card waits for the slowest query, not the sum.
        with ThreadPoolExecutor(max_workers=len(sides) + 1) as pool:
            counted = pool.submit(lambda: loki_client().counts(both, start=start, end=end, step=60))
            read = [
                pool.submit(lambda q=q: loki_client().lines(q, start=start, end=end, limit=limit))
                for q in queries
            ]
            by_version = {s.label(label): s for s in counted.result()}
            found = [future.result() for future in read]
        for side, query, lines in zip(sides, queries, found, strict=True):
            side.explore = explore_url(query, minutes)
            side.per_minute = _per_minute(by_version.get(side.version), start, minutes)
            side.errors = sum(side.per_minute)
            side.lines = lines_of(lines, label)
    except IntegrationError as exc:
        return sides, problem_text(exc)
    peak = max([n for side in sides for n in side.per_minute] + [1])
    for side in sides:
        side.points = _points(side.per_minute, peak)
    return sides, ""


def _per_minute(series, start: float, minutes: int) -> list[int]:
    """One count per minute, oldest first; Loki leaves empty minutes out."""
    counts = [0] * (minutes + 1)
    for sample in series.samples if series else ():
        index = round((sample.timestamp - start) / 60)
        if 0 <= index <= minutes:
            counts[index] = int(sample.value)
    return counts


def _points(counts: list[int], peak: int) -> str:
    step = SPARK_WIDTH / max(len(counts) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - 2 - n / peak * (SPARK_HEIGHT - 4):.1f}"
        for i, n in enumerate(counts)
    )
