"""PagerDuty (REST API v2 through the official `pagerduty` client): services, who is on call,
open incidents, and change events (Events API v2) for release start and finish.

Configured by `endpoint("pagerduty")` (PAGERDUTY_URL, else the sandbox), settings.PAGERDUTY_TOKEN
(a REST API key), settings.PAGERDUTY_EVENTS_URL (default: the same address as the REST API in the
sandbox, https://events.pagerduty.com in production), settings.PAGERDUTY_TIMEOUT_SECONDS and
settings.PAGERDUTY_CA_BUNDLE (an authority to trust besides the system's; by default the
sandbox's own, since the official client speaks https only).
The client's own retries are turned off: a page card must answer within its timeout, and Celery
retries what is worth retrying. `pagerduty_client()` keeps one client per process and settings
(an httpx client underneath, thread-safe): with a server that keeps connections alive, as
PagerDuty does, the cards reuse its https connections instead of paying a TLS handshake a call
(issue 15's panel budget). The sandbox closes every connection (werkzeug's server), so there
the on-call card's calls run side by side instead (oncall.selectors.on_call).
"""

import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pagerduty
from django.conf import settings

from .endpoints import endpoint
from .errors import IntegrationError

SYSTEM = "pagerduty"
OPEN = ("triggered", "acknowledged")


@dataclass(frozen=True)
class OnCall:
    user: str
    email: str
    level: int
    start: datetime | None
    end: datetime | None
    url: str


@dataclass(frozen=True)
class Incident:
    id: str
    number: int
    title: str
    status: str
    urgency: str
    service_id: str
    service_name: str
    created_at: datetime | None
    url: str

    @property
    def high(self) -> bool:
        return self.urgency == "high"


@dataclass(frozen=True)
class ServiceInfo:
    id: str
    name: str
    status: str
    escalation_policy_id: str
    url: str


class PagerDutyClient(Protocol):
    def service_get(self, service_id: str) -> ServiceInfo: ...

    def oncall_shifts(self, escalation_policy_id: str, *, days: int = 7) -> list[OnCall]: ...

    def incidents_open(self, service_ids: list[str], *, limit: int = 50) -> list[Incident]: ...

    def incidents_since(
        self, service_ids: list[str], since: datetime, *, limit: int = 500
    ) -> list[Incident]: ...

    def change_event_send(
        self, routing_key: str, *, summary: str, source: str, details: dict, links: list[dict]
    ) -> None: ...


def _when(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _quiet(client, timeout: float):
    """No sleeping retries inside a request: return the first answer, raise on a network error."""
    client.timeout = timeout
    client.max_network_attempts = 0
    client.max_http_attempts = -1  # any status with a retry rule is returned at once
    client.retry = {429: 1, 500: 1, 502: 1, 503: 1, 504: 1}
    return client


class RestPagerDutyClient:
    def __init__(
        self, *, base_url: str, events_url: str, token: str, timeout: float, ca_bundle: str = ""
    ):
        self._tls = {"verify": ssl.create_default_context(cafile=ca_bundle)} if ca_bundle else {}
        self._rest = _quiet(
            pagerduty.RestApiV2Client(token, base_url=base_url, **self._tls), timeout
        )
        self._events_url = events_url
        self._timeout = timeout

    @property
    def base_url(self) -> str:
        return self._rest.url

    def close(self) -> None:
        """Let go of the kept connections (the settings changed)."""
        self._rest.close()

    def _call(self, doing: str, action):
        try:
            return action()
        except pagerduty.Error as exc:
            response = getattr(exc, "response", None)
            status = getattr(response, "status_code", None)
            raise IntegrationError(
                f"{doing}: " + (f"HTTP {status}" if status else str(exc)[:200]),
                transient=status is None or status >= 500 or status == 429,
                system=SYSTEM,
                status=status,
            ) from exc
        except (OSError, ValueError) as exc:  # transport errors the client lets through
            raise IntegrationError(f"{doing}: {exc}", transient=True, system=SYSTEM) from exc

    def service_get(self, service_id: str) -> ServiceInfo:
        """The PagerDuty service `service_id` (its escalation policy tells who is on call)."""
        found = self._call(
            f"reading service {service_id}", lambda: self._rest.rget(f"/services/{service_id}")
        )
        return ServiceInfo(
            id=found["id"],
            name=found.get("name") or found.get("summary", ""),
            status=found.get("status", ""),
            escalation_policy_id=(found.get("escalation_policy") or {}).get("id", ""),
            url=found.get("html_url", ""),
        )

    def oncall_shifts(self, escalation_policy_id: str, *, days: int = 7) -> list[OnCall]:
        """Shifts of the escalation policy from now to `days` ahead, by level then start."""
        now = datetime.now(UTC)
        params = {
            "escalation_policy_ids[]": [escalation_policy_id],
            "since": now.isoformat(),
            "until": (now + timedelta(days=days)).isoformat(),
        }
        rows = self._call(
            "reading who is on call", lambda: list(self._rest.iter_all("oncalls", params=params))
        )
        shifts = [
            OnCall(
                user=(row.get("user") or {}).get("summary", ""),
                email=(row.get("user") or {}).get("email", ""),
                level=int(row.get("escalation_level") or 1),
                start=_when(row.get("start")),
                end=_when(row.get("end")),
                url=(row.get("user") or {}).get("html_url", ""),
            )
            for row in rows
        ]
        far = datetime.max.replace(tzinfo=UTC)
        return sorted(shifts, key=lambda s: (s.level, s.start or far))

    def incidents_open(self, service_ids: list[str], *, limit: int = 50) -> list[Incident]:
        """Triggered and acknowledged incidents of these services, newest first."""
        if not service_ids:
            return []
        params = {"service_ids[]": list(service_ids), "statuses[]": list(OPEN)}
        return self._incidents(params, limit, "reading open incidents")

    def incidents_since(
        self, service_ids: list[str], since: datetime, *, limit: int = 500
    ) -> list[Incident]:
        """Every incident of these services created since `since`, whatever its status."""
        if not service_ids:
            return []
        params = {
            "service_ids[]": list(service_ids),
            "statuses[]": [*OPEN, "resolved"],
            "since": since.isoformat(),
        }
        return self._incidents(params, limit, "reading recent incidents")

    def _incidents(self, params: dict, limit: int, doing: str) -> list[Incident]:
        def read():
            found = []
            for row in self._rest.iter_all("incidents", params=params):
                found.append(row)
                if len(found) >= limit:
                    break
            return found

        return [
            Incident(
                id=row["id"],
                number=int(row.get("incident_number") or 0),
                title=row.get("title") or row.get("summary", ""),
                status=row.get("status", ""),
                urgency=row.get("urgency", ""),
                service_id=(row.get("service") or {}).get("id", ""),
                service_name=(row.get("service") or {}).get("summary", ""),
                created_at=_when(row.get("created_at")),
                url=row.get("html_url", ""),
            )
            for row in self._call(doing, read)
        ]

    def change_event_send(
        self, routing_key: str, *, summary: str, source: str, details: dict, links: list[dict]
    ) -> None:
        """A change event (Events API v2) on the service whose integration key is `routing_key`."""
        events = _quiet(
            pagerduty.EventsApiV2Client(routing_key, base_url=self._events_url, **self._tls),
            self._timeout,
        )
        payload = {
            "summary": summary[:1024],
            "source": source,
            "timestamp": datetime.now(UTC).isoformat(),
            "custom_details": details,
        }
        self._call(
            "sending a change event", lambda: events.send_change_event(payload=payload, links=links)
        )


def _ca_bundle() -> str:
    """settings.PAGERDUTY_CA_BUNDLE, else the sandbox's authority when the sandbox serves it."""
    configured = getattr(settings, "PAGERDUTY_CA_BUNDLE", "")
    if configured:
        return configured
    sandbox = settings.SANDBOX_DIR / "tls" / "sandbox-ca.pem"
    return str(sandbox) if SYSTEM not in settings.INTEGRATION_URLS and sandbox.exists() else ""


_kept: dict = {}  # settings -> client; httpx (under the official client) is thread-safe
_kept_lock = threading.Lock()


def pagerduty_client() -> RestPagerDutyClient:
    """The client for the current settings, one per process, so connections are kept (the
    real PagerDuty keeps them alive) and its authority is loaded once."""
    base = endpoint(SYSTEM)
    config = (
        _ca_bundle(),
        base,
        getattr(settings, "PAGERDUTY_EVENTS_URL", "") or base,
        getattr(settings, "PAGERDUTY_TOKEN", "") or "",
        getattr(settings, "PAGERDUTY_TIMEOUT_SECONDS", settings.INTEGRATION_TIMEOUT_SECONDS),
    )
    with _kept_lock:
        client = _kept.get(config)
        if client is None:
            for old in _kept.values():  # the settings changed (tests, a reload): let go
                old.close()
            _kept.clear()
            ca_bundle, base_url, events_url, token, timeout = config
            client = _kept[config] = RestPagerDutyClient(
                ca_bundle=ca_bundle, base_url=base_url, events_url=events_url, token=token,
                timeout=timeout,
            )  # fmt: skip
    return client
