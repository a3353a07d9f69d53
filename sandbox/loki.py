"""Loki HTTP API (`/loki/api/v1/query_range`, `query`, `labels`, `label/<name>/values`, `/ready`)
over the logs of what runs in the Kubernetes sandbox.

Every running pod of every cluster writes one JSON line every LINE_PERIOD seconds, from its
start until now, as a deterministic function of (pod, time): nothing is stored, so any range can
be read again and gives the same answer. A line is an error with the probability the Prometheus
sandbox gives as the 5xx share of that service and version at that moment
(`state.shared["prometheus"].error_ratio`): a version marked bad there (`POST
/sandbox/bad-version`) logs errors here from the same moment, at the same rate. Some error lines
carry credentials (a bearer token, an API key in a URL, a database password), as real ones do.

Stream labels: `cluster` (the environment), `namespace`, `app` (the pod's app.kubernetes.io/name),
`pod`, `container`, `service_name` (the image's name) and `version` (the image's tag). The level is
a field of the line: `{app="x"} | json | level="error"`. See sandbox/logql.py for the queries.
"""

import bisect
import hashlib
import json
import math
import re
import time
from datetime import datetime

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .logql import LogQLError, LogQuery, MetricQuery, parse
from .registry import SandboxState, register
from .web import FaultKnobs, json_response, wsgi_app

LINE_PERIOD = 2.0
HEALTHY_ERROR_RATIO = 0.005  # without a Prometheus sandbox to ask
MAX_ERROR_RATIO = 0.5  # no simulated version fails more than half its requests
WARN_SHARE = 0.03
CACHE_LINES = 200_000
MAX_ENTRIES = 5000  # Loki's max_entries_limit_per_query
DEFAULT_LIMIT = 100
MAX_POINTS = 11_000
PATHS = ("/api/orders", "/api/cart", "/api/payments", "/healthz", "/api/search")
INFO = ("request served", "cache hit", "request served", "connection pool healthy")
WARN = ("slow upstream response", "retrying request", "deprecated header used")
ERRORS = (
    "upstream request failed: POST https://psp.example.com/charge?api_key=sk_live_{secret} "
    "returned 503",
    "database unavailable: postgres://{app}:{secret}@db.internal:5432/{app}",
    "request failed: upstream timeout after 2000ms",
    "token refresh failed for Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.{secret}.sig",
    "unhandled exception: KeyError 'order_id'",
)


class LokiSandbox:
    def __init__(self, state: SandboxState):
        self.state = state
        self.faults = FaultKnobs()
        self._cache: dict[tuple[str, int], tuple[float, dict[str, str]]] = {}
        self.url_map = Map(
            [
                Rule("/loki/api/v1/query_range", endpoint="query_range", methods=["GET", "POST"]),
                Rule("/loki/api/v1/query", endpoint="query", methods=["GET", "POST"]),
                Rule("/loki/api/v1/labels", endpoint="labels", methods=["GET", "POST"]),
                Rule("/loki/api/v1/label/<name>/values", endpoint="values", methods=["GET"]),
                Rule("/ready", endpoint="ready", methods=["GET"]),
            ]
        )

    def wsgi(self):
        return wsgi_app(self.handle, self.faults, self.rate_limited, self.failed)

    def rate_limited(self, request):
        return text_error(429, "Ingestion rate limit exceeded (too many outstanding requests)")

    def failed(self, request, status):
        return text_error(status, f"HTTP {status}")

    def handle(self, request: Request) -> Response:
        endpoint, values = self.url_map.bind_to_environ(request.environ).match()
        if endpoint == "ready":
            return Response("ready\n", content_type="text/plain")
        params = request.form if request.method == "POST" else request.args
        try:
            if endpoint == "query_range":
                data = self.query_range(params)
            elif endpoint == "query":
                data = self.query(params)
            elif endpoint == "labels":
                streams = self.streams(*self.span(params))
                data = sorted({k for s in streams for k in s if not k.startswith("_")})
            else:
                start, end = self.span(params)
                data = sorted(
                    {s[values["name"]] for s in self.streams(start, end) if values["name"] in s}
                )
        except LogQLError as exc:
            return text_error(400, str(exc))
        return json_response({"status": "success", "data": data})

    # ---- what runs ------------------------------------------------------------------------

    def streams(self, start: float, end: float) -> list[dict]:
        """Labels of every pod that ran in [start, end], with `_since` (its start time)."""
        clusters = self.state.shared.get("kubernetes")
        found = []
        for cluster in clusters.all() if clusters is not None else []:
            with cluster.lock:
                cluster.advance()
                pods = cluster.store.list("pods")
            for pod in pods:
                labels = pod_labels(cluster.name, pod)
                if labels is not None and labels["_since"] <= end:
                    found.append(labels)
        return found

    def error_ratio(self, service: str, version: str, at: float) -> float:
        prometheus = self.state.shared.get("prometheus")
        if prometheus is None:
            return HEALTHY_ERROR_RATIO
        return prometheus.error_ratio({"service": service, "version": version}, at)

    def lines(self, query: LogQuery, start: float, end: float):
        """(timestamp, labels after the pipeline, line) of every matching line in [start, end]."""
        end = min(end, time.time())
        ratios: dict[tuple, float] = {}
        for stream in self.streams(start, end):
            public = {k: v for k, v in stream.items() if not k.startswith("_")}
            if not all(m.matches(public) for m in query.selector):
                continue
            offset = _unit(stream["pod"]) * LINE_PERIOD
            first = math.ceil((max(start, stream["_since"]) - offset) / LINE_PERIOD)
            last = math.floor((end - offset) / LINE_PERIOD)
            for tick in range(first, last + 1):
                at = tick * LINE_PERIOD + offset
                line = self.line(stream, tick, at, ratios)
                labels = query.apply(public, line)
                if labels is not None:
                    yield at, labels, line

    def line(self, stream: dict, tick: int, at: float, ratios: dict) -> str:
        """The pod's line at `tick`. Only the level depends on the error ratio, so the dice and
        the text are cached, and the ratio is asked once per version and tick, and only when
        the dice could make the line an error."""
        pod = stream["pod"]
        key = (pod, tick)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) > CACHE_LINES:
                self._cache.clear()
            cached = self._cache[key] = (_unit(f"{pod}@{tick}"), {})
        roll, texts = cached
        ratio = 0.0
        if roll < MAX_ERROR_RATIO + WARN_SHARE:
            version = (stream["service_name"], stream["version"], tick)
            if version not in ratios:
                ratios[version] = self.error_ratio(version[0], version[1], tick * LINE_PERIOD)
            ratio = ratios[version]
        level = "error" if roll < ratio else "warn" if roll < ratio + WARN_SHARE else "info"
        if level not in texts:
            texts[level] = self.text(stream, tick, at, level)
        return texts[level]

    def text(self, stream: dict, tick: int, at: float, level: str) -> str:
        pod = stream["pod"]
        pick = int(_unit(f"{pod}#{tick}") * 1000)
        status = 200
        if level == "error":
            status = 500 + (pick % 2) * 3
            secret = _digest(f"{pod}{tick}")[:24]
            message = ERRORS[pick % len(ERRORS)].format(secret=secret, app=stream["app"])
        else:
            message = (WARN if level == "warn" else INFO)[pick % 3]
        fields = {
            "ts": datetime.fromtimestamp(at).astimezone().isoformat(),
            "level": level,
            "msg": message,
            "method": "GET",
            "path": PATHS[pick % len(PATHS)],
            "status": status,
            "duration_ms": 5 + pick % 400,
            "trace_id": _digest(f"{pod}{tick}t")[:16],
        }
        return json.dumps(fields, separators=(",", ":"))

    # ---- endpoints ------------------------------------------------------------------------

    def span(self, params, default_hours: float = 6) -> tuple[float, float]:
        end = _nanos(params.get("end"), time.time(), "end")
        start = _nanos(params.get("start"), end - default_hours * 3600, "start")
        if end < start:
            raise LogQLError("the query time range is invalid: the end is before the start")
        return start, end

    def query_range(self, params) -> dict:
        query = parse(_required(params))
        start, end = self.span(params, default_hours=1)
        if isinstance(query, MetricQuery):
            step = _step(params.get("step"), start, end)
            if (end - start) / step > MAX_POINTS:
                raise LogQLError(
                    "exceeded maximum resolution of 11,000 points per timeseries. "
                    "Try decreasing the query resolution (?step=XX)"
                )
            points = [start + i * step for i in range(int((end - start) // step) + 1)]
            return {"resultType": "matrix", "result": self.matrix(query, points), "stats": {}}
        limit = _limit(params.get("limit"))
        backward = params.get("direction", "backward") != "forward"
        found = sorted(self.lines(query, start, end), key=lambda x: x[0], reverse=backward)
        return {"resultType": "streams", "result": _streams(found[:limit]), "stats": {}}

    def query(self, params) -> dict:
        query = parse(_required(params))
        if not isinstance(query, MetricQuery):
            raise LogQLError("log queries are not supported as an instant query type")
        at = _nanos(params.get("time"), time.time(), "time")
        result = self.matrix(query, [at])
        return {
            "resultType": "vector",
            "result": [{"metric": s["metric"], "value": s["values"][-1]} for s in result],
            "stats": {},
        }

    def matrix(self, query: MetricQuery, points: list[float]) -> list[dict]:
        """Each point counts the lines in (point - range, point]; empty points are left out."""
        window = query.range_seconds
        found = sorted(self.lines(query.inner, points[0] - window, points[-1]), key=_first)
        stamps = [at for at, _, _ in found]
        series: dict[tuple, dict] = {}
        for point in points:
            counts: dict[tuple, int] = {}
            low, high = (
                bisect.bisect_right(stamps, point - window),
                bisect.bisect_right(stamps, point),
            )
            for _, labels, _ in found[low:high]:
                key = _group(labels, query.by)
                counts[key] = counts.get(key, 0) + 1
            for key, count in counts.items():
                value = count / window if query.function == "rate" else count
                entry = series.setdefault(key, {"metric": dict(key), "values": []})
                entry["values"].append([point, _format(value)])
        return list(series.values())


def pod_labels(cluster: str, pod: dict) -> dict | None:
    """A pod's stream labels, or None when it is not running (nothing writes its logs)."""
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return None
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    image = containers[0].get("image", "")
    repository, _, tag = image.rpartition(":")
    since = status.get("startTime") or pod["metadata"].get("creationTimestamp")
    meta = pod["metadata"]
    return {
        "cluster": cluster,
        "namespace": meta["namespace"],
        "app": (meta.get("labels") or {}).get("app.kubernetes.io/name", meta["name"]),
        "pod": meta["name"],
        "container": containers[0].get("name", ""),
        "service_name": repository.rsplit("/", 1)[-1],
        "version": tag,
        "_since": datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp(),
    }


def _first(item) -> float:
    return item[0]


def _group(labels: dict, by: tuple[str, ...] | None) -> tuple:
    if by is None:
        return tuple(sorted(labels.items()))
    return tuple(sorted((k, labels[k]) for k in by if k in labels))


def _streams(found) -> list[dict]:
    streams: dict[tuple, dict] = {}
    for at, labels, line in found:
        key = tuple(sorted(labels.items()))
        entry = streams.setdefault(key, {"stream": dict(key), "values": []})
        entry["values"].append([str(int(at * 1e9)), line])
    return list(streams.values())


def _required(params) -> str:
    query = params.get("query")
    if not query:
        raise LogQLError("parse error : syntax error: unexpected $end")
    return query


def _limit(value) -> int:
    try:
        limit = int(value) if value not in (None, "") else DEFAULT_LIMIT
    except ValueError:
        raise LogQLError(f'invalid parameter "limit": cannot parse "{value}"')
    if limit <= 0:
        raise LogQLError("limit must be a positive value")
    if limit > MAX_ENTRIES:
        raise LogQLError(
            f"max entries limit per query exceeded, limit > max_entries_limit "
            f"({limit} > {MAX_ENTRIES})"
        )
    return limit


def _nanos(value, default: float, name: str) -> float:
    """Loki takes nanosecond epochs, second epochs (with a fraction) and RFC 3339."""
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except ValueError:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise LogQLError(f'invalid parameter "{name}": cannot parse "{value}"')
    return number / 1e9 if number > 1e12 else number


def _step(value, start: float, end: float) -> float:
    if value in (None, ""):
        return max(1.0, math.ceil((end - start) / 250))  # Loki's default resolution
    match = re.fullmatch(r"(\d+)([smh])", value)
    step = int(match[1]) * {"s": 1, "m": 60, "h": 3600}[match[2]] if match else None
    if step is None:
        try:
            step = float(value)
        except ValueError:
            raise LogQLError(f'invalid parameter "step": cannot parse "{value}"')
    if step <= 0:
        raise LogQLError(
            "zero or negative query resolution step widths are not accepted. Try a positive integer"
        )
    return step


def _unit(text: str) -> float:
    return int(_digest(text)[:8], 16) / 0x100000000


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _format(value: float) -> str:
    return repr(round(value, 6)) if value % 1 else str(int(value))


def text_error(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def create_app(state: SandboxState):
    sandbox = LokiSandbox(state)
    state.shared["loki"] = sandbox
    return sandbox.wsgi()


register("loki", create_app, "Loki query API over the logs of the Kubernetes sandbox's pods")
