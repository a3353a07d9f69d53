"""CDEvents over the CloudEvents HTTP binding (PyPI `cloudevents`): one POST per event.

A CDEvent travels as the `data` of a CloudEvent whose `type`, `source` and `id` are the
CDEvent's `context.type`, `context.source` and `context.id` (the CDEvents CloudEvents binding).
Binary mode by default (`ce-*` headers, the CDEvent as the JSON body); structured mode sends
`application/cloudevents+json`. A sink's URL is its own; a blank one is the CDEVENTS_URL
setting, else the sandbox's sink (`endpoint("cdevents")`), which receives on `/events`.

Every send goes through `integrations.egress`: the sink's host is resolved and every address
checked (loopback, private, link-local and metadata addresses are refused unless in
CDEVENTS_ALLOWED_NETWORKS), then the POST connects to that pinned address, so a name that
resolved to a public address when the sink was saved cannot be rebound to an inside one.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1.event import CloudEvent
from django.conf import settings

from .egress import EgressTarget, Resolver, egress_resolve, http_request
from .endpoints import endpoint
from .errors import IntegrationError

SYSTEM = "cdevents"
BINARY, STRUCTURED = "binary", "structured"


@dataclass(frozen=True)
class Delivered:
    status: int


class CDEventSender(Protocol):
    def send(
        self, url: str, cdevent: dict, *, mode: str = BINARY, token: str = ""
    ) -> Delivered: ...


def cloudevent_of(cdevent: dict) -> CloudEvent:
    """The CloudEvent carrying `cdevent` (its context gives type, source, id and time)."""
    context = cdevent["context"]
    return CloudEvent(
        {
            "type": context["type"],
            "source": context["source"],
            "id": context["id"],
            "time": datetime.fromisoformat(context["timestamp"].replace("Z", "+00:00")),
            "datacontenttype": "application/json",
            "subject": cdevent["subject"]["id"],
        },
        cdevent,
    )


def sink_target(
    url: str, *, allowed_networks: Iterable[str], resolver: Resolver | None = None
) -> EgressTarget:
    """Check a sink URL and pin the address to send to. Raises IntegrationError (not transient)
    with the reason when it is refused: not http(s), credentials, a query, or an address that is
    loopback, private or link-local and not in `allowed_networks`. A name that cannot be
    resolved is transient."""
    scheme = urlsplit(url.strip()).scheme.lower()
    if scheme not in ("http", "https"):
        raise IntegrationError(
            f"{url!r}: a CDEvents sink is an http or https URL", transient=False, system=SYSTEM
        )
    try:
        return egress_resolve(
            url, allowed_networks=allowed_networks, resolver=resolver, trust_literal=False
        )
    except IntegrationError as exc:
        raise IntegrationError(
            f"CDEvents sink {url}: {exc.message}", transient=exc.transient, system=SYSTEM
        ) from exc


class HttpCDEventSender:
    def __init__(
        self, *, timeout: float, allowed_networks: Iterable[str] = (),
        resolver: Resolver | None = None,
    ):  # fmt: skip
        self._timeout = timeout
        self._allowed = tuple(allowed_networks)
        self._resolver = resolver

    def send(self, url: str, cdevent: dict, *, mode: str = BINARY, token: str = "") -> Delivered:
        """POST one CDEvent to `url` (checked and pinned again now: DNS may have changed since
        the sink was saved); 2xx is delivered. 5xx, 429 and network failures are transient
        (the outbox tries again later); a refused address or any other answer is a refusal."""
        event = cloudevent_of(cdevent)
        message = (
            ce_http.to_structured_event(event)
            if mode == STRUCTURED
            else ce_http.to_binary_event(event)
        )
        headers = dict(message.headers)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        target = url or _default_url()
        pinned = sink_target(target, allowed_networks=self._allowed, resolver=self._resolver)
        try:
            response = http_request(
                replace(pinned, base_path=""), method="POST", path=pinned.base_path or "/",
                headers=headers, body=message.body, timeout=self._timeout,
                max_response_bytes=64 * 1024,
            )  # fmt: skip
        except IntegrationError as exc:
            raise IntegrationError(
                f"sending {cdevent['context']['type']} to {target}: {exc.message}",
                transient=exc.transient,
                system=SYSTEM,
            ) from exc
        status = response.status
        if 200 <= status < 300:
            return Delivered(status=status)
        raise IntegrationError(
            f"{target} answered HTTP {status} to {cdevent['context']['type']}: "
            f"{response.body[:200].decode(errors='replace')}",
            transient=status >= 500 or status in (408, 429),
            system=SYSTEM,
            status=status,
        )


def _default_url() -> str:
    """CDEVENTS_URL, else the sandbox's sink; not configured yet (the sandbox starting) is
    transient, so the outbox keeps the event and tries again."""
    try:
        return endpoint(SYSTEM) + "/events"
    except IntegrationError as exc:
        raise IntegrationError(exc.message, transient=True, system=SYSTEM) from exc


def cdevent_sender() -> HttpCDEventSender:
    return HttpCDEventSender(
        timeout=settings.INTEGRATION_TIMEOUT_SECONDS,
        allowed_networks=settings.CDEVENTS_ALLOWED_NETWORKS,
    )
