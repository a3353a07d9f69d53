"""`make bench`: server time and query counts of the pages people use most, at catalog scale.

Each page figure is measured in-process with Django's test client (no network, no browser), so it
is the server's own time: URL routing, middleware, queries, template rendering. Medians and 95th
percentiles over repeated requests, rotating over sample objects so caches don't flatter. DEBUG
is off while measuring, as in production (no query log, no template debug information).
"""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


@dataclass(frozen=True)
class Figure:
    scale: str
    name: str
    p50_ms: float
    p95_ms: float
    queries: int
    note: str = ""
    target: str = ""


def measure(
    *,
    scale: str,
    name: str,
    call: Callable[[int], object],
    repeat: int = 40,
    note: str = "",
    target: str = "",
) -> Figure:
    """Time `call(i)` `repeat` times after two warm-up calls; count queries of the last call."""
    call(0)
    call(1)
    timings = []
    for index in range(repeat):
        started = time.perf_counter()
        call(index)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        call(repeat)
    return Figure(scale, name, *percentiles(timings), len(queries), note, target)


def percentiles(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def combine(runs: list[Figure]) -> Figure:
    """One figure from several measurement passes: the median p50 and p95, the most queries."""
    first = runs[0]
    return Figure(
        first.scale,
        first.name,
        statistics.median(f.p50_ms for f in runs),
        statistics.median(f.p95_ms for f in runs),
        max(f.queries for f in runs),
        first.note,
        first.target,
    )


def page_getter(client: Client, urls: list[str], **headers) -> Callable[[int], object]:
    def get(index: int):
        response = client.get(urls[index % len(urls)], **headers)
        if response.status_code != 200:
            raise RuntimeError(f"{urls[index % len(urls)]} answered {response.status_code}")
        return response

    return get


def verdict(figure: Figure) -> str:
    """ "met" / "not met" against a target like "p50 ≤ 25" (ms), with the ratio."""
    if not figure.target:
        return ""
    limit = float(figure.target.split("≤")[1])
    ratio = figure.p50_ms / limit
    return f"{'met' if ratio <= 1 else 'NOT met'} ({ratio:.2f}× of {figure.target} ms)"


def format_table(figures: list[Figure]) -> str:
    lines = [
        "| scale | figure | p50 ms | p95 ms | SQL queries | target (p50) | note |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.scale} | {f.name} | {f.p50_ms:.1f} | {f.p95_ms:.1f} | {f.queries} "
            f"| {verdict(f)} | {f.note} |"
        )
    return "\n".join(lines)
