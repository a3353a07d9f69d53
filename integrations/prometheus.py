"""Prometheus (HTTP query API): error-rate series per service and version, for sparklines.

Configured by `endpoint("prometheus")` (PROMETHEUS_URL, else the sandbox) and, when the server
needs one, `settings.PROMETHEUS_TOKEN` (bearer).
"""

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


def error_ratio_query(service: str, version: str, environment: str | None = None) -> str:
    """The PromQL for the 5xx share of `service` at `version` (values checked, not escaped)."""
    pairs = [("service", service), ("version", version)]
    if environment:
        pairs.append(("environment", environment))
    for name, value in pairs:
        if not LABEL_VALUE.match(value or ""):
            raise IntegrationError(f"{name} {value!r} cannot be a label value", transient=False)
    return ERROR_RATIO.format(labels=",".join(f'{k}="{v}"' for k, v in pairs))


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


def prometheus_client() -> HttpPrometheusClient:
    return HttpPrometheusClient(
        base_url=endpoint(SYSTEM),
        token=getattr(settings, "PROMETHEUS_TOKEN", "") or "",
        timeout=settings.INTEGRATION_TIMEOUT_SECONDS,
    )
