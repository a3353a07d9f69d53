"""Latency histograms and the series API of the Prometheus sandbox.

`histogram_quantile(Q, sum by (le) (rate(http_request_duration_seconds_bucket{M}[W])))` (or
`sum by (le, service, version)`, one series per canary) answers a synthetic quantile in seconds for
what runs (the same traffic shares as the request series):
a healthy version's p99 is 80–200 ms; a version marked bad climbs to about ten times that over the
bad ramp. `/api/v1/series?match[]=...` lists the series of the two metrics the sandbox knows
(`http_requests_total`, `http_request_duration_seconds_bucket`); any other metric has none, as a
Prometheus that is not scraping it would answer.
"""

import re

KNOWN_METRICS = ("http_requests_total", "http_request_duration_seconds_bucket")
QUANTILE = re.compile(
    r"^\s*histogram_quantile\(\s*(?P<q>0?\.\d+|1(?:\.0*)?)\s*,\s*sum\s+by\s*\(\s*le\s*(?P<by>(?:,\s*\w+\s*)*)\)\s*\(\s*"
    r"rate\(http_request_duration_seconds_bucket\{(?P<m>[^{}]*)\}\[(?P<w>\d+[smh])\]\)\s*\)\s*\)\s*$"
)
SERIES = re.compile(r"^\s*(?P<name>[a-zA-Z_:][\w:]*)\s*(?:\{(?P<m>[^{}]*)\})?\s*$")


def quantile_seconds(sandbox, labels: dict, quantile: float, at: float) -> float:
    """The synthetic latency quantile of one version (seconds)."""
    from .prometheus import _unit

    service, version = labels["service"], labels.get("version", "")
    p99 = 0.08 + 0.12 * _unit(f"{service}|{version}|latency")
    p99 *= 1 + 0.1 * (_unit(f"{service}|{version}@{int(at // 15)}|latency") - 0.5)
    p99 *= 1 + 9 * sandbox.bad_progress(service, version, at)
    return p99 * (0.35 + 0.65 * quantile**8)


def evaluate_quantile(sandbox, match, at: float) -> list[tuple[dict, float]]:
    from .prometheus import QueryError, _seconds, grouping, parse_matchers, split_errors

    labels, errors = split_errors(parse_matchers(match["m"]))
    if errors:
        raise ValueError("a latency histogram has no code label in the sandbox")
    _seconds(match["w"])
    quantile = float(match["q"])
    by = grouping(match["by"].strip().lstrip(",")) or ()
    found = []
    for series_labels, world in sandbox.label_sets(labels, by):
        if sandbox.rates(series_labels, at, world) is None:
            continue  # nothing that matches runs: no series
        key = {name: series_labels[name] for name in by if name in series_labels}
        found.append((key, quantile_seconds(sandbox, series_labels, quantile, at)))
    if len({tuple(sorted(key.items())) for key, _ in found}) < len(found):
        raise QueryError("the sandbox merges no histograms: group by (le, service, version)")
    return found


def series(sandbox, matches: list[str]) -> list[dict]:
    """`/api/v1/series`: the label sets of the known metrics that match."""
    from .prometheus import QueryError, parse_matchers

    found = []
    for text in matches:
        match = SERIES.match(text)
        if not match:
            raise QueryError(f"invalid series selector {text!r}")
        if match["name"] not in KNOWN_METRICS:
            continue
        labels = {
            key: value for key, (op, value) in parse_matchers(match["m"] or "").items() if op == "="
        }
        found.append({"__name__": match["name"], **labels})
    return found
