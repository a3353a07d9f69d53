"""Writes of the CDEvents wing: sinks (people, through the admin) and the outbox (the release
machine, inside the transaction of each transition)."""

from django.conf import settings
from django.db import transaction
from django.forms.models import model_to_dict

from integrations.cdevents import sink_target
from integrations.errors import IntegrationError
from portal.audit import AuditContext, audit_record
from portal.errors import ValidationFailed
from portal.permissions import permission_require

from ..releases.models import Release, ReleaseEvent
from . import tasks
from .events import ReleaseFacts, incident_cdevent, release_cdevents, site
from .models import CDEvent, CDEventDelivery, EventSink

SINK_FIELDS = ("name", "url", "mode", "enabled")  # the token is never audited


def sink_values(sink: EventSink) -> dict:
    """The audited fields of a sink; the token only as whether one is set."""
    values = model_to_dict(sink, fields=SINK_FIELDS)
    values["token"] = "(set)" if sink.token else ""
    return values


def event_sink_url_problem(url: str) -> str:
    """Why events may not be sent to `url` ("" when they may): the egress check the sender
    makes again at every send. A name that does not resolve right now is not refused here
    (the send checks it when it does)."""
    if not url:
        return ""
    try:
        sink_target(url, allowed_networks=settings.CDEVENTS_ALLOWED_NETWORKS)
    except IntegrationError as exc:
        return "" if exc.transient else exc.message
    return ""


def event_sink_save(
    *, actor, sink: EventSink, before: dict | None, context: AuditContext | None = None
) -> EventSink:
    """Create or change a sink (platform admins); audited with the fields before and after.
    `before`: the stored values of a changed sink (`sink_values`), None for a new one. A URL
    the egress check refuses (`event_sink_url_problem`) raises ValidationFailed."""
    creating = sink.pk is None
    permission_require(
        actor=actor,
        perm="deployments.add_eventsink" if creating else "deployments.change_eventsink",
        obj=None if creating else sink,
        action="cdevents.sink_add" if creating else "cdevents.sink_change",
        context=context,
        message="Only platform admins configure where CDEvents go.",
    )
    if problem := event_sink_url_problem(sink.url):
        raise ValidationFailed(problem)
    with transaction.atomic():
        if creating:
            sink.created_by = actor
        sink.save()
        audit_record(
            actor=actor,
            action="cdevents.sink_add" if creating else "cdevents.sink_change",
            target=sink,
            before=before,
            after=sink_values(sink),
            context=context,
        )
    return sink


def event_sink_delete(*, actor, sink: EventSink, context: AuditContext | None = None) -> None:
    """Remove a sink and its undelivered events (platform admins); audited."""
    permission_require(
        actor=actor,
        perm="deployments.delete_eventsink",
        obj=sink,
        action="cdevents.sink_delete",
        context=context,
        message="Only platform admins configure where CDEvents go.",
    )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="cdevents.sink_delete",
            target=sink,
            before=sink_values(sink),
            context=context,
        )
        sink.delete()


def _enabled_sinks() -> list[int]:
    return list(EventSink.objects.filter(enabled=True).values_list("pk", flat=True))


def _outbox_write(*, stream: str, events: list[dict], sinks: list[int], release_id=None) -> None:
    """Store `events` and one delivery per sink, then wake the senders when this commits."""
    rows = CDEvent.objects.bulk_create(
        [
            CDEvent(
                event_id=e["context"]["id"],
                stream=stream,
                type=e["context"]["type"],
                release_id=release_id,
                payload=e,
            )
            for e in events
        ]
    )
    CDEventDelivery.objects.bulk_create(
        [CDEventDelivery(event=row, sink_id=sink, stream=stream) for row in rows for sink in sinks]
    )
    for sink in sinks:
        transaction.on_commit(
            lambda sink=sink: tasks.cdevents_deliver.delay(sink, stream), robust=True
        )


def cdevents_release_record(*, release_id: int, state: str) -> None:
    """The CDEvents of a release reaching `state`, into the outbox. Call it inside the
    transition's transaction: the events exist exactly when the transition does."""
    sinks = _enabled_sinks()
    if not sinks:
        return
    release = (
        Release.objects.select_related("component", "environment")
        .only(
            "pk",
            "version",
            "previous_version",
            "rollback_of_id",
            "is_restore",
            "last_error",
            "component__name",
            "environment__name",
        )  # fmt: skip
        .get(pk=release_id)
    )
    reached = (
        state == "aborted"
        and ReleaseEvent.objects.filter(
            release_id=release_id, state__in=["syncing", "progressing", "paused"]
        ).exists()
    )
    facts = ReleaseFacts(
        id=release.pk,
        component=release.component.name,
        environment=release.environment.name,
        version=release.version,
        previous_version=release.previous_version,
        rollback=bool(release.rollback_of_id) or release.is_restore,
        reached_cluster=reached,
        error=release.last_error,
        url=site(release.get_absolute_url()),
    )
    events = release_cdevents(facts, state)
    if events:
        _outbox_write(stream=f"release:{release_id}", events=events, sinks=sinks,
                      release_id=release_id)  # fmt: skip


def cdevents_incident_record(*, incident, environment: str) -> None:
    """A PagerDuty incident seen for the first time, as incident.detected (inside the
    transaction that records it)."""
    sinks = _enabled_sinks()
    if not sinks:
        return
    event = incident_cdevent(
        pagerduty_id=incident.pagerduty_id,
        title=incident.title,
        component=incident.component.name,
        environment=environment,
        url=incident.url,
    )
    _outbox_write(stream=f"incident:{incident.pagerduty_id}", events=[event], sinks=sinks)
