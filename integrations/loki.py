"""Grafana Loki (HTTP query API): log lines and error counts per service and version.

Configured by `endpoint("loki")` (LOKI_URL, else the sandbox), `settings.LOKI_TOKEN` (bearer,
when a gateway needs one), `settings.LOKI_ORG_ID` (the X-Scope-OrgID tenant of a multi-tenant
Loki) and `settings.LOKI_TIMEOUT_SECONDS`. Answers larger than `max_bytes` are refused rather
than read whole: a panel must never hold a page hostage to a runaway query.

LogQL is built here from parts a caller chose (label pairs, line filters, a level), never pasted
from user input: `stream_selector`, `log_query` and `count_query` quote every value.
"""

import json
import re
from dataclasses import dataclass
from typing import Protocol

import requests
from django.conf import settings

from .endpoints import endpoint
from .errors import IntegrationError

SYSTEM = "loki"
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
ERROR_LEVELS = ("error", "fatal", "critical")


@dataclass(frozen=True)
class LogLine:
    timestamp: float  # seconds since the epoch
    line: str
    labels: tuple[tuple[str, str], ...]

    def label(self, name: str, default: str = "") -> str:
        return dict(self.labels).get(name, default)


@dataclass(frozen=True)
class CountSample:
    timestamp: float
    value: float


@dataclass(frozen=True)
class CountSeries:
    labels: tuple[tuple[str, str], ...]
    samples: tuple[CountSample, ...]

    def label(self, name: str, default: str = "") -> str:
        return dict(self.labels).get(name, default)

    @property
    def total(self) -> float:
        return sum(s.value for s in self.samples)


class LokiClient(Protocol):
    def lines(
        self, query: str, *, start: float, end: float, limit: int, direction: str = "backward"
    ) -> list[LogLine]: ...

    def counts(self, query: str, *, start: float, end: float, step: int) -> list[CountSeries]: ...

    def labels(self, *, start: float | None = None, end: float | None = None) -> list[str]: ...

    def label_values(
        self, name: str, *, start: float | None = None, end: float | None = None
    ) -> list[str]: ...


def quote(value: str) -> str:
    """A LogQL string literal (double-quoted, backslash escapes)."""
    return json.dumps(str(value))


def stream_selector(matchers: list[tuple[str, str, str]]) -> str:
    """`{a="x", b=~"y|z"}` from (label, operator, value) triples; names are checked."""
    parts = []
    for name, op, value in matchers:
        if not LABEL_NAME.match(name) or op not in ("=", "!=", "=~", "!~"):
            raise IntegrationError(f"{name}{op} is not a LogQL label matcher", transient=False)
        parts.append(f"{name}{op}{quote(value)}")
    if not parts:
        raise IntegrationError("a LogQL stream selector needs a label matcher", transient=False)
    return "{" + ", ".join(parts) + "}"


def level_regex(levels=ERROR_LEVELS) -> str:
    return "|".join(re.escape(level) for level in levels)


def log_query(
    selector: str, *, contains: tuple[str, ...] = (), json_fields: bool = True, levels=()
) -> str:
    """A log query: the selector, `|=` filters, `| json` and a level filter on the parsed field."""
    query = selector + "".join(f" |= {quote(text)}" for text in contains)
    if json_fields:
        query += " | json"
        if levels:
            query += f" | level=~{quote(level_regex(levels))}"
    return query


def count_query(query: str, *, window: str = "1m", by: tuple[str, ...] = ()) -> str:
    """Lines per `window` of a log query, summed by the given labels."""
    grouping = f" by ({', '.join(by)})" if by else ""
    return f"sum{grouping} (count_over_time({query} [{window}]))"


class HttpLokiClient:
    def __init__(self, *, base_url: str, token: str, org_id: str, timeout: float, max_bytes: int):
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._session = requests.Session()
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        if org_id:
            self._session.headers["X-Scope-OrgID"] = org_id

    def _get(self, path: str, params: dict, doing: str):
        try:
            with self._session.get(
                f"{self._base}{path}", params=params, timeout=self._timeout, stream=True
            ) as response:
                raw = self._read(response, doing)
        except requests.Timeout:
            raise IntegrationError(f"timed out while {doing}", transient=True, system=SYSTEM)
        except requests.RequestException as exc:
            raise IntegrationError(f"{doing}: {exc}", transient=True, system=SYSTEM)
        status = response.status_code
        if status >= 400:
            # Loki answers query errors as plain text ("parse error at line 1, col 4: ...").
            text = raw.decode(errors="replace").strip()[:300]
            raise IntegrationError(
                f"{doing}: HTTP {status} {text}",
                transient=status >= 500 or status == 429,
                system=SYSTEM,
                status=status,
            )
        try:
            body = json.loads(raw)
        except ValueError:
            raise IntegrationError(
                f"{doing}: the answer is not JSON", transient=True, system=SYSTEM
            )
        if body.get("status") != "success":
            raise IntegrationError(f"{doing}: {body.get('error', body)}", transient=False)
        return body["data"]

    def _read(self, response, doing: str) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > self._max_bytes:
                raise IntegrationError(
                    f"{doing}: the answer is larger than {self._max_bytes} bytes; "
                    "narrow the query or the time range",
                    transient=False,
                    system=SYSTEM,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def lines(
        self, query: str, *, start: float, end: float, limit: int, direction: str = "backward"
    ) -> list[LogLine]:
        """Log lines of `query` in [start, end], newest first when `direction` is backward."""
        data = self._get(
            "/loki/api/v1/query_range",
            {
                "query": query,
                "start": _ns(start),
                "end": _ns(end),
                "limit": limit,
                "direction": direction,
            },
            "reading log lines",
        )
        if data.get("resultType") != "streams":
            raise IntegrationError("a log query answered metrics", transient=False, system=SYSTEM)
        found = [
            LogLine(int(ts) / 1e9, text, tuple(sorted(stream.get("stream", {}).items())))
            for stream in data.get("result", [])
            for ts, text, *_ in stream.get("values", [])
        ]
        found.sort(key=lambda line: line.timestamp, reverse=direction == "backward")
        return found[:limit]

    def counts(self, query: str, *, start: float, end: float, step: int) -> list[CountSeries]:
        """A metric query's series over [start, end] every `step` seconds."""
        data = self._get(
            "/loki/api/v1/query_range",
            {"query": query, "start": _ns(start), "end": _ns(end), "step": step},
            "counting log lines",
        )
        if data.get("resultType") != "matrix":
            raise IntegrationError("a metric query answered lines", transient=False, system=SYSTEM)
        return [
            CountSeries(
                tuple(sorted(series.get("metric", {}).items())),
                tuple(CountSample(float(t), float(v)) for t, v in series.get("values", [])),
            )
            for series in data.get("result", [])
        ]

    def labels(self, *, start: float | None = None, end: float | None = None) -> list[str]:
        """The label names Loki knows in the time span (default: Loki's, the last 6 hours)."""
        return list(self._get("/loki/api/v1/labels", _span(start, end), "listing labels"))

    def label_values(
        self, name: str, *, start: float | None = None, end: float | None = None
    ) -> list[str]:
        if not LABEL_NAME.match(name):
            raise IntegrationError(f"{name!r} is not a label name", transient=False, system=SYSTEM)
        return list(
            self._get(f"/loki/api/v1/label/{name}/values", _span(start, end), f"listing {name}")
        )


def _ns(seconds: float) -> str:
    return str(int(seconds * 1e9))


def _span(start: float | None, end: float | None) -> dict:
    return {k: _ns(v) for k, v in (("start", start), ("end", end)) if v is not None}


def loki_client() -> HttpLokiClient:
    return HttpLokiClient(
        base_url=endpoint(SYSTEM),
        token=getattr(settings, "LOKI_TOKEN", "") or "",
        org_id=getattr(settings, "LOKI_ORG_ID", "") or "",
        timeout=getattr(settings, "LOKI_TIMEOUT_SECONDS", settings.INTEGRATION_TIMEOUT_SECONDS),
        max_bytes=getattr(settings, "LOGS_MAX_ANSWER_BYTES", 2_000_000),
    )
