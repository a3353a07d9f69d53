"""CDEvents over the CloudEvents HTTP binding (PyPI `cloudevents`): one POST per event.

A CDEvent travels as the `data` of a CloudEvent whose `type`, `source` and `id` are the
CDEvent's `context.type`, `context.source` and `context.id` (the CDEvents CloudEvents binding).
Binary mode by default (`ce-*` headers, the CDEvent as the JSON body); structured mode sends
`application/cloudevents+json`. A sink's URL is its own; a blank one is the CDEVENTS_URL
setting, else the sandbox's sink (`endpoint("cdevents")`), which receives on `/events`.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import requests
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1.event import CloudEvent
from django.conf import settings

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


class HttpCDEventSender:
    def __init__(self, *, timeout: float):
        self._timeout = timeout
        self._session = requests.Session()

    def send(self, url: str, cdevent: dict, *, mode: str = BINARY, token: str = "") -> Delivered:
        """POST one CDEvent to `url`; 2xx is delivered. 5xx, 429 and network failures are
        transient (the outbox tries again later); any other answer is a refusal."""
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
        try:
            response = self._session.post(
                target, data=message.body, headers=headers, timeout=self._timeout
            )
        except requests.RequestException as exc:
            raise IntegrationError(
                f"sending {cdevent['context']['type']} to {target}: {exc}",
                transient=True,
                system=SYSTEM,
            ) from exc
        status = response.status_code
        if 200 <= status < 300:
            return Delivered(status=status)
        raise IntegrationError(
            f"{target} answered HTTP {status} to {cdevent['context']['type']}: "
            f"{response.text[:200]}",
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
    return HttpCDEventSender(timeout=settings.INTEGRATION_TIMEOUT_SECONDS)
