"""Reads from PagerDuty for the on-call and incidents cards; failures are sentences.

A component maps to a PagerDuty service through its `pagerduty.com/service-id` annotation, as
Backstage's PagerDuty plugin does; `pagerduty.com/integration-key` is where change events go.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.cache import cache

from catalog.models import Component
from catalog.selectors import blast_radius
from integrations.errors import IntegrationError
from integrations.pagerduty import Incident, OnCall, pagerduty_client

SERVICE_ID = "pagerduty.com/service-id"
SERVICE_CACHE = "oncall:pagerduty-service:{}:{}"  # PagerDuty's address, the service id
SERVICE_SECONDS = 300
INTEGRATION_KEY = "pagerduty.com/integration-key"


def service_id(component) -> str:
    return str((component.annotations or {}).get(SERVICE_ID, "")).strip()


def problem_text(exc: IntegrationError) -> str:
    if exc.transient:
        return (
            f"PagerDuty could not be asked ({exc.message}). The card tries again by itself; "
            "meanwhile look in PagerDuty itself, or page through your usual escalation."
        )
    return (
        f"PagerDuty refused ({exc.message}). Check the {SERVICE_ID} annotation of this "
        "component and PAGERDUTY_TOKEN."
    )


@dataclass
class OnCallView:
    service_id: str
    service_name: str = ""
    service_url: str = ""
    now: list[OnCall] = field(default_factory=list)
    next: OnCall | None = None
    incidents: list[Incident] = field(default_factory=list)
    problem: str = ""


def on_call(component) -> OnCallView:
    """Who is on call now (each level) and next (level 1), and the service's open incidents."""
    found = OnCallView(service_id(component))
    if not found.service_id:
        return found
    try:
        client = pagerduty_client()
        # The three reads side by side: the incidents need only the service id, the shifts
        # its escalation policy, kept for a few minutes (a first look reads it first).
        kept = SERVICE_CACHE.format(client.base_url, found.service_id)
        service, fresh = cache.get(kept), None
        with ThreadPoolExecutor(max_workers=2) as pool:
            incidents = pool.submit(client.incidents_open, [found.service_id])
            if service is None:
                service = client.service_get(found.service_id)
                cache.set(kept, service, SERVICE_SECONDS)
            else:
                fresh = pool.submit(client.service_get, found.service_id)
            shifts = (
                client.oncall_shifts(service.escalation_policy_id)
                if service.escalation_policy_id
                else []
            )
            found.incidents = incidents.result()
            if fresh is not None:  # the service as PagerDuty says now, kept for the next look
                service = fresh.result()
                cache.set(kept, service, SERVICE_SECONDS)
        found.service_name, found.service_url = service.name, service.url
        moment = datetime.now(UTC)
        found.now = [s for s in shifts if (s.start is None or s.start <= moment)]
        later = [s for s in shifts if s.level == 1 and s.start and s.start > moment]
        found.next = later[0] if later else None
    except IntegrationError as exc:
        found.problem = problem_text(exc)
    return found


@dataclass
class BlastIncidents:
    rows: list[tuple[Incident, str, int]] = field(
        default_factory=list
    )  # incident, component, depth
    services: int = 0  # components asked about (with a PagerDuty service)
    unmapped: int = 0  # components of the blast radius without one
    truncated: bool = False
    problem: str = ""

    @property
    def high(self) -> list[Incident]:
        return [incident for incident, _, _ in self.rows if incident.high]


def blast_incidents(component) -> BlastIncidents:
    """Open incidents on the component and on every component in its blast radius."""
    radius = blast_radius(component)
    depth = {node.id: node.depth for node in radius.components} | {component.pk: 0}
    rows = Component.objects.filter(pk__in=list(depth)).values_list("pk", "name", "annotations")
    by_service: dict[str, tuple[str, int]] = {}
    found = BlastIncidents(truncated=radius.truncated)
    for pk, name, annotations in rows:
        sid = str((annotations or {}).get(SERVICE_ID, "")).strip()
        if sid:
            by_service.setdefault(sid, (name, depth[pk]))
        else:
            found.unmapped += 1
    found.services = len(by_service)
    if not by_service:
        return found
    try:
        incidents = pagerduty_client().incidents_open(sorted(by_service), limit=100)
    except IntegrationError as exc:
        found.problem = problem_text(exc)
        return found
    found.rows = sorted(
        ((i, *by_service.get(i.service_id, (i.service_name, 99))) for i in incidents),
        key=lambda row: (row[2], not row[0].high, row[1]),
    )
    return found
