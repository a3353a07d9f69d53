"""The audit log: record every action (done, denied or failed), sign checkpoints, verify the chain.

The hashing itself is in `portal.audit_chain` (standard library only, shared with the offline
verifier); this module turns rows into the flat fields it hashes and back.
"""

import ipaddress
import json
import logging
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from . import audit_chain
from .audit_chain import GENESIS_HASH, ChainProblem
from .models import AuditCheckpoint, AuditEvent

__all__ = ["GENESIS_HASH", "AuditContext", "ChainProblem", "audit_record", "audit_verify"]

logger = logging.getLogger(__name__)
# PostgreSQL advisory lock id taken while appending, so that concurrent writers chain in order.
_CHAIN_LOCK_ID = 7_203_114


def audit_key() -> bytes:
    return settings.AUDIT_HMAC_KEY.encode()


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, unless that is a configured trusted proxy; then the
    right-most X-Forwarded-For entry that is not itself a trusted proxy (the left-most ones are
    whatever the client chose to send)."""
    trusted = [ipaddress.ip_network(net, strict=False) for net in settings.TRUSTED_PROXIES]
    remote = _ip_or_none(request.META.get("REMOTE_ADDR", ""))

    def is_trusted(ip) -> bool:
        return any(ip in network for network in trusted)

    if remote is None or not is_trusted(remote):
        return str(remote) if remote else None
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        ip = _ip_or_none(hop)
        if ip is None:
            break
        if not is_trusted(ip):
            return str(ip)
    return str(remote)


def _ip_or_none(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class AuditContext:
    """Where an action came from: filled from the request in views, by hand in tasks."""

    request_id: str = ""
    ip_address: str | None = None
    # Where the person acted when it is not the portal's own pages: "slack", ... Recorded in
    # the row's `after` (inside the hashed content), so every row of that action says so.
    channel: str = ""

    @classmethod
    def from_request(cls, request) -> "AuditContext":
        return cls(request_id=getattr(request, "request_id", ""), ip_address=client_ip(request))


def _text(value: Any, limit: int | None = None) -> str:
    # PostgreSQL refuses NUL and lone surrogates in text; the record must still be written.
    text = ("" if value is None else str(value)).replace("\x00", "\ufffd")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit else text


def _json_safe(value: Any) -> Any:
    """Plain JSON (dates as ISO text, numbers in their one form, text PostgreSQL accepts)."""
    if value is None:
        return None
    plain = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    return _clean_json(audit_chain.normalise(plain))


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_text(key): _clean_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean_json(item) for item in value]
    return value


def _timestamp(moment) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_fields(event) -> dict:
    """The flat, JSON-only view of an event that its hash covers (and the export carries)."""
    ip = event.ip_address
    return {
        "created_at": _timestamp(event.created_at),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "outcome": event.outcome,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "component_id": event.component_id,
        "environment": event.environment,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "request_id": event.request_id,
        "ip_address": str(ipaddress.ip_address(ip)) if ip else None,
        "previous_hash": event.previous_hash,
    }


def compute_hash(event) -> str:
    return audit_chain.entry_hash(audit_key(), event_fields(event))


def audit_record(
    *,
    actor,
    action: str,
    target=None,
    outcome: str = AuditEvent.Outcome.DONE,
    component=None,
    environment: str = "",
    before: Any = None,
    after: Any = None,
    reason: str = "",
    context: AuditContext | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one event to the chain. Call it inside the transaction of the change it records.

    `actor` is a user or None for a machine identity (then give `actor_label`, e.g.
    "workflow:github/payments"). `target` is any model instance (or None).
    """
    context = context or AuditContext()
    if context.channel and (after is None or isinstance(after, dict)):
        after = {**(after or {}), "channel": context.channel}
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-id").values_list("entry_hash", flat=True).first()
        event = AuditEvent(
            actor=user,
            actor_label=_text(actor_label or (user.get_username() if user else "anonymous"), 200),
            action=_text(action, 100),
            outcome=outcome,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=_text(target.pk, 100) if target is not None else "",
            target_label=_text(target, 300) if target is not None else "",
            component=component,
            environment=_text(environment, 60),
            before=_json_safe(before),
            after=_json_safe(after),
            reason=_text(reason),
            request_id=_text(context.request_id, 64),
            ip_address=context.ip_address,
            previous_hash=last or GENESIS_HASH,
        )
        event.created_at = event.created_at.astimezone(UTC)
        event.entry_hash = compute_hash(event)
        event.save(force_insert=True)
    return event


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])
    # SQLite serialises writers already (IMMEDIATE transactions).


def checkpoint_fields(checkpoint: AuditCheckpoint) -> dict:
    return {
        "count": checkpoint.count,
        "head_id": checkpoint.head_id,
        "head_hash": checkpoint.head_hash,
        "at": _timestamp(checkpoint.created_at),
        "signature": checkpoint.signature,
    }


def audit_checkpoint() -> AuditCheckpoint | None:
    """Sign (count, head id, head hash) of the chain as it is now, store it and log it.

    The log line is the copy outside the database: with it (or an export's checkpoint line)
    removing the newest events is detected. None when the log is empty.
    """
    with transaction.atomic():
        _lock_chain()
        head = AuditEvent.objects.order_by("-id").values("id", "entry_hash").first()
        if head is None:
            return None
        checkpoint = AuditCheckpoint(
            count=AuditEvent.objects.filter(id__lte=head["id"]).count(),
            head_id=head["id"],
            head_hash=head["entry_hash"],
            created_at=timezone.now().astimezone(UTC),
        )
        checkpoint.signature = audit_chain.checkpoint_signature(
            audit_key(),
            count=checkpoint.count,
            head_id=checkpoint.head_id,
            head_hash=checkpoint.head_hash,
            at=_timestamp(checkpoint.created_at),
        )
        checkpoint.save()
    line = audit_chain.canonical_json(checkpoint_fields(checkpoint)).decode()
    logger.info("audit checkpoint %s", line)
    return checkpoint


def export_row(event: AuditEvent) -> dict:
    return {"id": event.id, **event_fields(event), "entry_hash": event.entry_hash}


def audit_verify(*, batch_size: int = 2000) -> list[ChainProblem]:
    """Walk the whole chain; return every broken event and every checkpoint it no longer
    covers (an empty list when intact)."""
    checkpoints = [checkpoint_fields(c) for c in AuditCheckpoint.objects.order_by("id")]
    wanted = {c["head_id"] for c in checkpoints}
    positions: dict[int, tuple[int, str]] = {}

    def rows():
        events = AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size)
        for position, event in enumerate(events, start=1):
            if event.id in wanted:
                positions[event.id] = (position, event.entry_hash)
            yield export_row(event)

    problems, _, _ = audit_chain.chain_problems(audit_key(), rows())
    for checkpoint in checkpoints:
        problems += audit_chain.checkpoint_problems(audit_key(), checkpoint, positions=positions)
    return problems


def audit_rechain() -> int:
    """Re-hash every event under the current key and scheme (used once by migration 0004)."""
    previous = GENESIS_HASH
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        event.previous_hash = previous
        event.entry_hash = compute_hash(event)
        AuditEvent.objects.filter(pk=event.pk).update(
            previous_hash=event.previous_hash, entry_hash=event.entry_hash
        )
        previous = event.entry_hash
        count += 1
    return count


def audit_checkpoint_if_moved() -> AuditCheckpoint | None:
    """A new checkpoint only when events were added since the last one."""
    last = AuditCheckpoint.objects.order_by("-id").values_list("head_id", flat=True).first()
    head = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    if head is None or head == last:
        return None
    return audit_checkpoint()
