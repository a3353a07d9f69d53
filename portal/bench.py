"""`make bench`: server time and query counts of the pages people use most, at catalog scale.

Each figure is measured in-process with Django's test client (no network, no browser), so it is the
server's own time: URL routing, middleware, queries, template rendering. Medians and 95th
percentiles over repeated requests, rotating over sample objects so caches don't flatter.
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


def measure(
    *, scale: str, name: str, call: Callable[[int], object], repeat: int = 40, note: str = ""
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
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return Figure(scale, name, statistics.median(timings), p95, len(queries), note)


def page_getter(client: Client, urls: list[str], **headers) -> Callable[[int], object]:
    def get(index: int):
        response = client.get(urls[index % len(urls)], **headers)
        if response.status_code != 200:
            raise RuntimeError(f"{urls[index % len(urls)]} answered {response.status_code}")
        return response

    return get


def format_table(figures: list[Figure]) -> str:
    lines = [
        "| scale | figure | p50 ms | p95 ms | SQL queries | note |",
        "|---|---|---:|---:|---:|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.scale} | {f.name} | {f.p50_ms:.1f} | {f.p95_ms:.1f} | {f.queries} | {f.note} |"
        )
    return "\n".join(lines)
