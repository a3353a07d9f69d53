"""The incident ledger: beat copies PagerDuty incidents of mapped components into `Incident`,
so that DORA's change failure rate can ask "did a high-urgency incident follow this release?"
from the database, and each new incident is emitted once as a CDEvent (incident.detected)."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from catalog.models import Component, Environment
from deployments.cdevents.services import cdevents_incident_record
from integrations.errors import IntegrationError
from integrations.pagerduty import pagerduty_client

from .models import Incident
from .selectors import SERVICE_ID, service_id

logger = logging.getLogger(__name__)
LOOKBACK = timedelta(days=2)  # incidents created since: twice beat's worst gap, and then some
CHUNK = 50  # service ids per request


def incidents_sync() -> int:
    """Record incidents PagerDuty opened recently on mapped components; the number new.
    A PagerDuty failure is logged and retried on the next beat (the lookback covers it)."""
    components = {
        service_id(c): c for c in Component.objects.filter(annotations__has_key=SERVICE_ID)
    }
    components.pop("", None)
    if not components:
        return 0
    since = timezone.now() - LOOKBACK
    ids = sorted(components)
    found = []
    try:
        client = pagerduty_client()
        for start in range(0, len(ids), CHUNK):
            found += client.incidents_since(ids[start : start + CHUNK], since)
    except IntegrationError as exc:
        logger.warning("incidents not read from PagerDuty: %s", exc)
        return 0
    return _record(found, components)


def _record(found, components: dict) -> int:
    known = dict(
        Incident.objects.filter(pagerduty_id__in=[i.id for i in found]).values_list(
            "pagerduty_id", "status"
        )
    )
    production = Environment.objects.filter(is_production=True).order_by("order").first()
    new = 0
    for incident in found:
        component = components.get(incident.service_id)
        if component is None:
            continue
        if incident.id in known:
            if known[incident.id] != incident.status:
                Incident.objects.filter(pagerduty_id=incident.id).update(status=incident.status)
            continue
        with transaction.atomic():
            row, created = Incident.objects.get_or_create(
                pagerduty_id=incident.id,
                defaults={
                    "component": component,
                    "number": incident.number,
                    "title": incident.title[:300],
                    "urgency": incident.urgency,
                    "status": incident.status,
                    "created_at": incident.created_at or timezone.now(),
                    "url": incident.url[:400],
                },
            )
            if created:  # two beats racing: the one that created it emits it
                cdevents_incident_record(
                    incident=row, environment=production.name if production else "production"
                )
                new += 1
    return new
