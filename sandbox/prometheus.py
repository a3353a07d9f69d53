"""Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`) with synthetic request metrics.

The series are a deterministic function of (service, version, environment, time): a healthy
error ratio around 0.2–1%, and a request rate around 20–120 req/s. `POST /sandbox/bad-version`
`{"service": "x", "version": "1.2.3"}` marks a version bad from now on: its error ratio climbs
over BAD_RAMP_SECONDS (scaled by the sandbox time scale) to 20–30%. `DELETE` heals it.

Supported query shapes (anything else answers 400 `bad_data`), where `{M}` is a label matcher
list with `service="x"` (required) and optionally `version="y"`, `environment="z"`:

1. error ratio: `sum(rate(http_requests_total{M,code=~"5.."}[W])) /
   sum(rate(http_requests_total{M}[W]))`
2. grouped: the same with `sum by (version) (...)` (or `by (service, version)`, any of service,
   version, environment) on both sides; without a version matcher it answers one series per
   version that runs (or that the sandbox has seen asked about or marked bad)
3. request rate: `sum(rate(http_requests_total{M}[W]))`, grouped or not
4. error rate: `sum(rate(http_requests_total{M,code=~"5.."}[W]))`, grouped or not

`service` and `version` may also be matched with `=~` by an alternation of literal values
(`service=~"cart|ledger",version=~"1\\.2\\.0|1\\.3\\.0"`), which is how one query asks about many
canaries at once (deployments/analysis). `W` is a duration such as 30s, 1m, 5m.
"""

import hashlib
import math
import re
import threading
import time

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .prometheus_latency import QUANTILE, evaluate_quantile, series
from .prometheus_traffic import traffic_many
from .registry import SandboxState, register
from .web import FaultKnobs, json_response, request_json, time_scale, wsgi_app

BAD_RAMP_SECONDS = 30.0
MAX_POINTS = 11_000
METRIC = "http_requests_total"
_SELECTOR = r"rate\(" + METRIC + r"\{{(?P<{name}>[^{{}}]*)\}}\[(?P<{window}>\d+[smh])\]\)"
_SUM = r"sum(?:\s+by\s*\((?P<{by}>[\w\s,]*)\)\s*|\s*)\(\s*" + _SELECTOR + r"\s*\)"
GROUPABLE = ("service", "version", "environment")
RATIO = re.compile(
    r"^\s*"
    + _SUM.format(by="by1", name="m1", window="w1")
    + r"\s*/\s*"
    + _SUM.format(by="by2", name="m2", window="w2")
    + r"\s*$"
)
SINGLE = re.compile(r"^\s*" + _SUM.format(by="by1", name="m1", window="w1") + r"\s*$")
LABEL = re.compile(r'\s*(?P<key>[a-zA-Z_]\w*)\s*(?P<op>=~|!=|=)\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*')


class QueryError(ValueError):
    pass


def parse_matchers(text: str) -> dict[str, tuple[str, str]]:
    matchers, position = {}, 0
    text = text.strip()
    while position < len(text):
        match = LABEL.match(text, position)
        if not match:
            raise QueryError(f'unexpected label matcher near "{text[position:]}"')
        matchers[match["key"]] = (match["op"], match["value"])
        position = match.end()
        if position < len(text):
            if text[position] != ",":
                raise QueryError(f'expected "," in label matchers near "{text[position:]}"')
            position += 1
    return matchers


def split_errors(matchers: dict) -> tuple[dict[str, str], bool]:
    """(plain labels, whether the selector keeps only 5xx). A `=~` matcher of service or
    version is kept as its alternatives joined by "|" under the key `<label>=~`."""
    labels, errors = {}, False
    for key, (op, value) in matchers.items():
        if key == "code" and op == "=~" and value in {"5..", "5xx", "5.*"}:
            errors = True
        elif key in {"service", "version", "environment"} and op == "=":
            labels[key] = value
        elif key in {"service", "version"} and op == "=~":
            labels[f"{key}=~"] = "|".join(alternatives(value))
        else:
            raise QueryError(f"unsupported matcher {key}{op}{value!r} in the sandbox")
    if "service" not in labels and "service=~" not in labels:
        raise QueryError('the sandbox needs a service="..." (or service=~"a|b") matcher')
    return labels, errors


def alternatives(pattern: str) -> list[str]:
    """The literal values of an alternation: the PromQL string `a|1\\\\.2` is the regex
    `a|1\\.2`, whose values are "a" and "1.2". Other regular expressions are not supported."""
    regex = re.sub(r"\\(.)", r"\1", pattern)  # the PromQL string's own escapes
    values = []
    for part in re.split(r"(?<!\\)\|", regex):
        if not part or re.search(r"(?<!\\)[.*+?()\[\]{}^$]", part):
            raise QueryError(f"the sandbox matches =~ only with literal alternatives, not {part!r}")
        values.append(re.sub(r"\\(.)", r"\1", part))
    return values


def grouping(text: str | None) -> tuple[str, ...] | None:
    """The labels of `by (...)`, or None without a by clause."""
    if text is None:
        return None
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not set(names) <= set(GROUPABLE):
        raise QueryError(f"the sandbox groups only by {', '.join(GROUPABLE)}, not {names}")
    return names


class PrometheusSandbox:
    def __init__(self, state: SandboxState):
        self.state = state
        self.faults = FaultKnobs()
        self.bad: dict[tuple[str, str], float] = {}
        self.seen: dict[str, set[str]] = {}
        self.lock = threading.Lock()
        self.url_map = Map(
            [
                Rule("/api/v1/query", endpoint="query", methods=["GET", "POST"]),
                Rule("/api/v1/query_range", endpoint="query_range", methods=["GET", "POST"]),
                Rule("/api/v1/series", endpoint="series", methods=["GET", "POST"]),
                Rule("/sandbox/bad-version", endpoint="bad", methods=["GET", "POST", "DELETE"]),
            ]
        )

    def wsgi(self):
        return wsgi_app(self.handle, self.faults, self.rate_limited, self.failed)

    def rate_limited(self, request):
        return envelope_error(429, "unavailable", "too many queries")

    def failed(self, request, status):
        return envelope_error(status, "internal" if status >= 500 else "bad_data", f"HTTP {status}")

    def handle(self, request: Request) -> Response:
        endpoint, _ = self.url_map.bind_to_environ(request.environ).match()
        if endpoint == "bad":
            return self.do_bad(request)
        params = request.form if request.method == "POST" else request.args
        try:
            if endpoint == "series":
                data = series(self, params.getlist("match[]"))
            elif endpoint == "query":
                data = self.query(params)
            else:
                data = self.query_range(params)
        except QueryError as exc:
            return envelope_error(400, "bad_data", str(exc))
        return json_response({"status": "success", "data": data})

    # ---- the synthetic series ---------------------------------------------------------------

    def value(self, labels: dict[str, str], errors: bool, window: float, at: float) -> float:
        """Request rate (or 5xx rate) per second for `labels` at time `at`."""
        key = "|".join(f"{k}={labels.get(k, '')}" for k in ("service", "version", "environment"))
        base = 20 + _unit(key) * 100
        wave = 1 + 0.15 * math.sin(at / 300 + _unit(key + "phase") * 6.28)
        requests = base * wave * (1 + 0.05 * (_unit(f"{key}@{int(at // 15)}") - 0.5))
        if not errors:
            return requests
        return requests * self.error_ratio(labels, at)

    def error_ratio(self, labels: dict[str, str], at: float) -> float:
        service, version = labels["service"], labels.get("version", "")
        healthy = 0.002 + 0.008 * _unit(f"{service}|{version}|err")
        healthy *= 1 + 0.3 * (_unit(f"{service}|{version}@{int(at // 15)}") - 0.5)
        progress = self.bad_progress(service, version, at)
        if not progress:
            return healthy
        peak = 0.2 + 0.1 * _unit(f"{service}|{version}|peak")
        if not version:  # the whole service: the bad version takes a share of the traffic
            peak *= 0.3
        return healthy + (peak - healthy) * progress

    def bad_progress(self, service: str, version: str, at: float) -> float:
        """0 for a healthy version, rising to 1 over the bad ramp once marked bad."""
        with self.lock:
            bad_since = [
                since
                for (s, v), since in self.bad.items()
                if s == service and (not version or v == version)
            ]
        if not bad_since or at < min(bad_since):
            return 0.0
        ramp = BAD_RAMP_SECONDS * time_scale(self.state)
        return min(1.0, (at - min(bad_since)) / ramp) if ramp > 0 else 1.0

    def evaluate(self, query: str, at: float) -> list[tuple[dict, float]]:
        """[(labels of the result series, value)] for a supported query shape."""
        latency = QUANTILE.match(query)
        if latency:
            return evaluate_quantile(self, latency, at)
        ratio = RATIO.match(query)
        single = SINGLE.match(query) if ratio is None else None
        if ratio is None and single is None:
            raise QueryError(
                "the sandbox supports only the query shapes listed in "
                "docs/release-sandboxes.md (error ratio, request rate, error rate, latency "
                "quantile)"
            )
        found = ratio or single
        numerator, num_errors = split_errors(parse_matchers(found["m1"]))
        _seconds(found["w1"])  # a valid range, though the synthetic series ignore it
        by = grouping(found["by1"])
        if ratio:
            denominator, den_errors = split_errors(parse_matchers(found["m2"]))
            if (
                denominator != numerator
                or not num_errors
                or den_errors
                or by != grouping(found["by2"])
            ):
                raise QueryError(
                    "the ratio must divide the 5xx rate by the total rate of the same series"
                )
        sums: dict[tuple, list[float]] = {}
        for labels, world in self.label_sets(numerator, by or ()):
            rates = self.rates(labels, at, world)
            if rates is None:
                continue  # nothing that matches runs: Prometheus has no series
            key = tuple((name, labels[name]) for name in by or () if name in labels)
            total = sums.setdefault(key, [0.0, 0.0])
            total[0] += rates[0]
            total[1] += rates[1]
        results = []
        for key, (requests, errors) in sums.items():
            if ratio:
                value = errors / requests
            else:
                value = errors if num_errors else requests
            results.append((dict(key), value))
        return results

    def label_sets(self, matched: dict, by: tuple[str, ...]):
        """[(labels of one service and version (or the whole service), its traffic world)]
        that a selector with the labels `matched` (see split_errors) covers."""
        services = (matched.get("service=~") or matched.get("service", "")).split("|")
        asked = matched.get("version=~") or matched.get("version")
        environment = matched.get("environment", "")
        worlds = traffic_many(self.state.shared.get("kubernetes"), services, environment)
        for service in services:
            world = worlds[service]
            base = {"service": service, **({"environment": environment} if environment else {})}
            if asked:
                versions = asked.split("|")
                with self.lock:
                    self.seen.setdefault(service, set()).update(versions)
            elif "version" in by:
                with self.lock:
                    versions = sorted(self.seen.get(service, set()))
                if world is not None:
                    versions = sorted({v for shares in world.values() for v in shares})
            else:
                versions = [None]  # the whole service
            for version in versions:
                yield ({**base, "version": version} if version else base), world

    def rates(self, labels: dict, at: float, world: dict | None) -> tuple[float, float] | None:
        """(requests/s, 5xx/s) of `labels` at `at`. With the clusters' `world` (see
        sandbox/prometheus_traffic.py) each environment's requests are split between the
        versions by their traffic share; None when no matching version serves any."""
        if world is None:
            requests = self.value(labels, False, 0, at)
            return requests, requests * self.error_ratio(labels, at)
        total = errors = 0.0
        for environment, shares in world.items():
            base = self.value({"service": labels["service"], "environment": environment}, False,
                              0, at)  # fmt: skip
            for version, share in shares.items():
                if labels.get("version", version) != version:
                    continue
                requests = base * share
                total += requests
                errors += requests * self.error_ratio({**labels, "version": version}, at)
        return (total, errors) if total else None

    # ---- endpoints --------------------------------------------------------------------------

    def query(self, params) -> dict:
        query = params.get("query")
        if not query:
            raise QueryError('invalid parameter "query": query must not be empty')
        at = _time(params.get("time"), time.time(), "time")
        return {
            "resultType": "vector",
            "result": [
                {"metric": labels, "value": [at, _format(value)]}
                for labels, value in self.evaluate(query, at)
            ],
        }

    def query_range(self, params) -> dict:
        query = params.get("query")
        if not query:
            raise QueryError('invalid parameter "query": query must not be empty')
        start = _time(params.get("start"), None, "start")
        end = _time(params.get("end"), None, "end")
        step = _step(params.get("step"))
        if end < start:
            raise QueryError('invalid parameter "end": end timestamp must not be before start')
        if (end - start) / step > MAX_POINTS:
            raise QueryError(
                "exceeded maximum resolution of 11,000 points per timeseries. "
                "Try decreasing the query resolution (?step=XX)"
            )
        series: dict[str, dict] = {}
        point = start
        while point <= end:
            for labels, value in self.evaluate(query, point):
                key = str(sorted(labels.items()))
                series.setdefault(key, {"metric": labels, "values": []})["values"].append(
                    [point, _format(value)]
                )
            point += step
        return {"resultType": "matrix", "result": list(series.values())}

    def do_bad(self, request: Request) -> Response:
        if request.method == "GET":
            with self.lock:
                marked = [
                    {"service": s, "version": v, "since": t} for (s, v), t in self.bad.items()
                ]
            return json_response({"bad_versions": marked})
        try:
            body = request_json(request)
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)
        service, version = body.get("service"), body.get("version")
        if not service or not version:
            return json_response({"error": "service and version are required"}, 400)
        with self.lock:
            if request.method == "DELETE":
                self.bad.pop((service, version), None)
            else:
                self.bad.setdefault((service, version), time.time())
                self.seen.setdefault(service, set()).add(version)
        return json_response({"service": service, "version": version}, 200)


def _unit(text: str) -> float:
    """A stable pseudo-random number in [0, 1) for `text`."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0x100000000


def _format(value: float) -> str:
    return repr(round(value, 6))


def _seconds(text: str) -> float:
    return int(text[:-1]) * {"s": 1, "m": 60, "h": 3600}[text[-1]]


def _time(value: str | None, default: float | None, name: str) -> float:
    if value is None or value == "":
        if default is None:
            raise QueryError(f'invalid parameter "{name}": missing')
        return default
    try:
        return float(value)
    except ValueError:
        pass
    from datetime import datetime

    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise QueryError(f'invalid parameter "{name}": cannot parse "{value}" to a valid timestamp')


def _step(value: str | None) -> float:
    if not value:
        raise QueryError('invalid parameter "step": missing')
    try:
        step = float(value)
    except ValueError:
        match = re.fullmatch(r"(\d+)([smh])", value)
        if not match:
            raise QueryError(
                f'invalid parameter "step": cannot parse "{value}" to a valid duration'
            )
        step = _seconds(value)
    if step <= 0:
        raise QueryError(
            'invalid parameter "step": zero or negative query resolution step widths are not '
            "accepted. Try a positive integer"
        )
    return step


def envelope_error(status: int, error_type: str, message: str) -> Response:
    return json_response({"status": "error", "errorType": error_type, "error": message}, status)


def create_app(state: SandboxState):
    sandbox = PrometheusSandbox(state)
    state.shared["prometheus"] = sandbox
    return sandbox.wsgi()


register("prometheus", create_app, "Prometheus query API with synthetic error-rate series")
