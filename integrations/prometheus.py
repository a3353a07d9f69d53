"""Prometheus (HTTP query API): error-rate series per service and version, for sparklines.

Configured by `endpoint("prometheus")` (PROMETHEUS_URL, else the sandbox) and, when the server
needs one, `settings.PROMETHEUS_TOKEN` (bearer).
"""

import math
import re
import time
from dataclasses import dataclass
from typing import Protocol

import requests
from django.conf import settings

from .endpoints import endpoint
from .errors import IntegrationError

SYSTEM = "prometheus"
LABEL_VALUE = re.compile(r"^[\w.+-]+$")
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
REQUEST_RATE = "sum(rate(http_requests_total{{{labels}}}[{window}]))"
LATENCY_QUANTILE = (
    "histogram_quantile({quantile}, sum by (le) (rate({metric}_bucket{{{labels}}}[{window}])))"
)
BY_CANARY = "service, version"
BATCH_REQUEST_RATE = "sum by (" + BY_CANARY + ") (rate(http_requests_total{{{labels}}}[{window}]))"
BATCH_ERROR_RATIO = (
    "sum by (" + BY_CANARY + ') (rate(http_requests_total{{{labels},code=~"5.."}}[{window}])) / '
    "sum by (" + BY_CANARY + ") (rate(http_requests_total{{{labels}}}[{window}]))"
)
BATCH_LATENCY_QUANTILE = (
    "histogram_quantile({quantile}, sum by (le, " + BY_CANARY + ") "
    "(rate({metric}_bucket{{{labels}}}[{window}])))"
)
ERROR_RATIO = (
    'sum(rate(http_requests_total{{{labels},code=~"5.."}}[1m])) / '
    "sum(rate(http_requests_total{{{labels}}}[1m]))"
)


@dataclass(frozen=True)
class Sample:
    timestamp: float
    value: float

    def __iter__(self):
        """Unpacks as (timestamp, value)."""
        return iter((self.timestamp, self.value))


class PrometheusClient(Protocol):
    def error_rate_series(
        self, service: str, version: str, minutes: int, *, environment: str | None = None
    ) -> list[Sample]: ...


def _matchers(**pairs: str | None) -> str:
    """`service="x",version="y"` for the given labels (values checked, not escaped)."""
    pairs = {name: value for name, value in pairs.items() if value is not None}
    for name, value in pairs.items():
        if not LABEL_VALUE.match(value or ""):
            raise IntegrationError(f"{name} {value!r} cannot be a label value", transient=False)
    return ",".join(f'{k}="{v}"' for k, v in pairs.items())


def _any_of(name: str, values) -> str:
    """`name=~"a|b.c"` for the values a and b.c: an alternation of checked values, each
    escaped as a regular expression and then as a PromQL string."""
    values = sorted(set(values))
    for value in values:
        if not LABEL_VALUE.match(value or ""):
            raise IntegrationError(f"{name} {value!r} cannot be a label value", transient=False)
    regex = "|".join(re.escape(value) for value in values)
    escaped = regex.replace("\\", "\\\\")
    return f'{name}=~"{escaped}"'


def canaries_matchers(services, versions, environment: str | None) -> str:
    """The selector of many services and versions at once (one query for a whole tick)."""
    parts = [_matchers(environment=environment or None)] if environment else []
    return ",".join([*parts, _any_of("service", services), _any_of("version", versions)])


def _metric(metric: str) -> str:
    if not METRIC_NAME.match(metric or ""):
        raise IntegrationError(f"{metric!r} is not a metric name", transient=False)
    return metric


def error_ratio_query(service: str, version: str, environment: str | None = None) -> str:
    """The PromQL for the 5xx share of `service` at `version` (values checked, not escaped)."""
    labels = _matchers(service=service, version=version, environment=environment or None)
    return ERROR_RATIO.format(labels=labels)


class HttpPrometheusClient:
    def __init__(self, *, base_url: str, token: str, timeout: float):
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def _query(self, path: str, params: dict, doing: str) -> dict:
        try:
            response = self._session.post(f"{self._base}{path}", data=params, timeout=self._timeout)
        except requests.Timeout:
            raise IntegrationError(f"timed out while {doing}", transient=True, system=SYSTEM)
        except requests.RequestException as exc:
            raise IntegrationError(f"{doing}: {exc}", transient=True, system=SYSTEM)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400 or body.get("status") != "success":
            status = response.status_code
            raise IntegrationError(
                f"{doing}: HTTP {status} {body.get('errorType', '')} {body.get('error', '')}",
                transient=status >= 500 or status in (429, 503),
                system=SYSTEM,
                status=status,
            )
        return body["data"]

    def error_rate_series(
        self, service: str, version: str, minutes: int, *, environment: str | None = None
    ) -> list[Sample]:
        """The 5xx share (0..1) over the last `minutes`, oldest first, about 60 points."""
        end = time.time()
        step = max(5, int(minutes * 60 / 60))
        data = self._query(
            "/api/v1/query_range",
            {
                "query": error_ratio_query(service, version, environment),
                "start": end - minutes * 60,
                "end": end,
                "step": step,
            },
            f"querying the error rate of {service} {version}",
        )
        result = data.get("result") or []
        if not result:
            return []
        return [Sample(float(t), float(v)) for t, v in result[0].get("values", [])]

    def error_rate_now(
        self, service: str, version: str, *, environment: str | None = None
    ) -> float | None:
        """The current 5xx share, or None when there is no traffic."""
        data = self._query(
            "/api/v1/query",
            {"query": error_ratio_query(service, version, environment)},
            f"querying the error rate of {service} {version}",
        )
        result = data.get("result") or []
        return float(result[0]["value"][1]) if result else None

    def _instant(self, query: str, doing: str) -> float | None:
        data = self._query("/api/v1/query", {"query": query}, doing)
        result = data.get("result") or []
        return float(result[0]["value"][1]) if result else None

    def request_rate_now(
        self, service: str, version: str, *, environment: str | None = None, window: str = "1m"
    ) -> float | None:
        """Requests per second served by `version` over `window`, or None when it has none."""
        labels = _matchers(service=service, version=version, environment=environment or None)
        return self._instant(
            REQUEST_RATE.format(labels=labels, window=window),
            f"querying the request rate of {service} {version}",
        )

    def latency_quantile_now(
        self,
        service: str,
        version: str,
        *,
        metric: str,
        quantile: float = 0.99,
        environment: str | None = None,
        window: str = "1m",
    ) -> float | None:
        """The `quantile` of `metric` (a histogram, seconds) from its `_bucket` series."""
        labels = _matchers(service=service, version=version, environment=environment or None)
        query = LATENCY_QUANTILE.format(
            quantile=quantile, metric=_metric(metric), labels=labels, window=window
        )
        return self._instant(query, f"querying the p{quantile * 100:g} latency of {service}")

    def _by_canary(self, query: str, doing: str) -> dict[tuple[str, str], float]:
        data = self._query("/api/v1/query", {"query": query}, doing)
        found = {}
        for item in data.get("result") or []:
            labels, value = item.get("metric", {}), float(item["value"][1])
            if not math.isnan(value):  # 0/0: a series without traffic in the window
                found[(labels.get("service", ""), labels.get("version", ""))] = value
        return found

    def canary_numbers_now(
        self,
        services: list[str],
        versions: list[str],
        *,
        environment: str | None = None,
        window: str = "1m",
        latency_metric: str | None = None,
        quantile: float = 0.99,
    ) -> dict[str, dict[tuple[str, str], float]]:
        """For every (service, version) of these services and versions that has series, in
        two or three queries whatever their number: the 5xx share (`error_rate`), requests per
        second (`request_rate`) and, with `latency_metric`, the `quantile` of that histogram in
        seconds (`latency`). A pair without traffic is absent."""
        labels = canaries_matchers(services, versions, environment)
        where = f"{len(services)} services in {environment or 'all environments'}"
        numbers = {
            "error_rate": self._by_canary(
                BATCH_ERROR_RATIO.format(labels=labels, window=window),
                f"querying the error rates of {where}",
            ),
            "request_rate": self._by_canary(
                BATCH_REQUEST_RATE.format(labels=labels, window=window),
                f"querying the request rates of {where}",
            ),
        }
        if latency_metric:
            numbers["latency"] = self._by_canary(
                BATCH_LATENCY_QUANTILE.format(
                    quantile=quantile, metric=_metric(latency_metric), labels=labels, window=window
                ),
                f"querying the p{quantile * 100:g} latencies of {where}",
            )
        return numbers

    def series_exist(self, metric: str, **labels: str) -> bool:
        """Whether Prometheus has any series of `metric` with these labels (`/api/v1/series`)."""
        selector = f"{_metric(metric)}{{{_matchers(**labels)}}}"
        data = self._query(
            "/api/v1/series", {"match[]": selector}, f"looking for the series {selector}"
        )
        return bool(data)


def prometheus_client() -> HttpPrometheusClient:
    return HttpPrometheusClient(
        base_url=endpoint(SYSTEM),
        token=getattr(settings, "PROMETHEUS_TOKEN", "") or "",
        timeout=settings.INTEGRATION_TIMEOUT_SECONDS,
    )
